package dev.railyard.overlay.kube;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.railyard.proxy.source.kubernetes.TolerantWatch;
import io.kubernetes.client.informer.ListerWatcher;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1ListMeta;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeList;
import io.kubernetes.client.util.CallGeneratorParams;
import io.kubernetes.client.util.Watchable;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import okhttp3.Call;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lists and watches Nodes for client-java's informer, reading them with {@link SparseNodes} and asking for
 * bookmarks. After a failed call the next one waits, doubling from 0.8 s to 30 s with jitter as client-go does,
 * rather than client-java's fixed second, so many nodes do not hammer an API server that is coming back.
 */
final class NodeListerWatcher implements ListerWatcher<V1Node, V1NodeList> {
    private static final Logger log = LoggerFactory.getLogger(NodeListerWatcher.class);
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(800);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    private final CoreV1Api api;
    private int failures;

    NodeListerWatcher(ApiClient client) {
        this.api = new CoreV1Api(client);
    }

    @Override
    public V1NodeList list(CallGeneratorParams params) throws ApiException {
        pause();
        try (Response response = execute(api.listNode().resourceVersion(params.resourceVersion)
                .timeoutSeconds(params.timeoutSeconds).buildCall(null))) {
            JsonObject body = JsonParser.parseReader(response.body().charStream()).getAsJsonObject();
            List<V1Node> items = new ArrayList<>();
            JsonElement array = body.get("items");
            if (array != null && array.isJsonArray()) {
                for (JsonElement item : (JsonArray) array) {
                    V1Node node = SparseNodes.node(item);
                    if (node == null || node.getMetadata().getName() == null) {
                        log.warn("ignoring a Node without a name in the node list");
                    } else {
                        items.add(node);
                    }
                }
            }
            JsonObject metadata = SparseNodes.object(body, "metadata");
            failures = 0;
            return new V1NodeList().apiVersion("v1").kind("NodeList").items(items)
                    .metadata(new V1ListMeta().resourceVersion(metadata == null ? null : SparseNodes.string(metadata, "resourceVersion")));
        } catch (JsonParseException | IllegalStateException e) {
            failures++;
            throw new ApiException("cannot read the node list: " + e.getMessage());
        } catch (ApiException | RuntimeException e) {
            failures++;
            throw e;
        }
    }

    @Override
    public Watchable<V1Node> watch(CallGeneratorParams params) throws ApiException {
        pause();
        Call call = api.listNode().resourceVersion(params.resourceVersion).timeoutSeconds(params.timeoutSeconds)
                .watch(true).allowWatchBookmarks(true).buildCall(null);
        try {
            Response response = execute(call);
            failures = 0;
            return new TolerantWatch<>(call, response.body(), NodeListerWatcher::watchedNode);
        } catch (ApiException | RuntimeException e) {
            failures++;
            throw e;
        }
    }

    private void pause() throws ApiException {
        if (failures == 0) {
            return;
        }
        long max = Math.min(MAX_BACKOFF.toMillis(), FIRST_BACKOFF.toMillis() << Math.min(failures - 1, 10));
        long delay = max / 2 + ThreadLocalRandom.current().nextLong(max / 2 + 1);
        try {
            Thread.sleep(delay);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException("interrupted");
        }
    }

    private static V1Node watchedNode(JsonElement object) {
        V1Node node = SparseNodes.node(object);
        if (node == null) {
            throw new IllegalStateException("the event's object is not a Node");
        }
        return node;
    }

    /** Runs a call as client-java does: I/O failures and non-2xx answers become ApiExceptions with the code. */
    private static Response execute(Call call) throws ApiException {
        Response response;
        try {
            response = call.execute();
        } catch (IOException e) {
            throw new ApiException(e);
        }
        if (!response.isSuccessful()) {
            String body = "";
            try (ResponseBody b = response.body()) {
                body = b == null ? "" : b.string();
            } catch (IOException ignored) {
                // the code says enough
            }
            throw new ApiException(response.code(), "HTTP " + response.code() + ": " + body);
        }
        return response;
    }
}
