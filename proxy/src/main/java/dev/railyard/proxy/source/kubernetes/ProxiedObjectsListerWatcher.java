package dev.railyard.proxy.source.kubernetes;

import com.google.gson.JsonIOException;
import com.google.gson.JsonParseException;
import dev.railyard.proxy.source.ServiceConverter;
import io.kubernetes.client.common.KubernetesListObject;
import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.informer.ListerWatcher;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.DiscoveryV1Api;
import io.kubernetes.client.openapi.apis.NetworkingV1Api;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1EndpointSliceList;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeList;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServiceCIDR;
import io.kubernetes.client.openapi.models.V1ServiceCIDRList;
import io.kubernetes.client.openapi.models.V1ServiceList;
import io.kubernetes.client.util.CallGeneratorParams;
import io.kubernetes.client.util.Watchable;
import java.io.IOException;
import okhttp3.Call;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * Lists and watches one kind in all namespaces with kube-proxy's label selector, so objects that belong to
 * another proxy or to a headless Service never leave the API server. Watches ask for bookmarks, which keep
 * the resume point fresh on quiet kinds and so spare a relist after a reconnect. Responses are read with
 * {@link TolerantJson}, so fields newer than client-java's models do not break the informer.
 */
final class ProxiedObjectsListerWatcher<T extends KubernetesObject, L extends KubernetesListObject>
        implements ListerWatcher<T, L> {

    /** kube-proxy's selector (cmd/kube-proxy/app/server.go), in the order labels.Selector prints it. */
    static final String LABEL_SELECTOR =
            "!" + ServiceConverter.HEADLESS_LABEL + ",!" + ServiceConverter.SERVICE_PROXY_NAME_LABEL;

    /** One list or watch request; {@code params.watch} tells which. */
    @FunctionalInterface
    private interface CallFactory {
        Call build(CallGeneratorParams params) throws ApiException;
    }

    private final CallFactory calls;
    private final Class<T> objectType;
    private final Class<L> listType;

    private ProxiedObjectsListerWatcher(CallFactory calls, Class<T> objectType, Class<L> listType) {
        this.calls = calls;
        this.objectType = objectType;
        this.listType = listType;
    }

    static ProxiedObjectsListerWatcher<V1Service, V1ServiceList> services(ApiClient apiClient) {
        CoreV1Api api = new CoreV1Api(apiClient);
        return new ProxiedObjectsListerWatcher<>(params -> api.listServiceForAllNamespaces()
                .labelSelector(LABEL_SELECTOR)
                .resourceVersion(params.resourceVersion)
                .timeoutSeconds(params.timeoutSeconds)
                .watch(params.watch)
                .allowWatchBookmarks(Boolean.TRUE.equals(params.watch) ? Boolean.TRUE : null)
                .buildCall(null), V1Service.class, V1ServiceList.class);
    }

    static ProxiedObjectsListerWatcher<V1EndpointSlice, V1EndpointSliceList> endpointSlices(ApiClient apiClient) {
        DiscoveryV1Api api = new DiscoveryV1Api(apiClient);
        return new ProxiedObjectsListerWatcher<>(params -> api.listEndpointSliceForAllNamespaces()
                .labelSelector(LABEL_SELECTOR)
                .resourceVersion(params.resourceVersion)
                .timeoutSeconds(params.timeoutSeconds)
                .watch(params.watch)
                .allowWatchBookmarks(Boolean.TRUE.equals(params.watch) ? Boolean.TRUE : null)
                .buildCall(null), V1EndpointSlice.class, V1EndpointSliceList.class);
    }

    /** This node's Node only, as kube-proxy's node informer asks for it (field selector metadata.name). */
    static ProxiedObjectsListerWatcher<V1Node, V1NodeList> node(ApiClient apiClient, String nodeName) {
        CoreV1Api api = new CoreV1Api(apiClient);
        return new ProxiedObjectsListerWatcher<>(params -> api.listNode()
                .fieldSelector("metadata.name=" + nodeName)
                .resourceVersion(params.resourceVersion)
                .timeoutSeconds(params.timeoutSeconds)
                .watch(params.watch)
                .allowWatchBookmarks(Boolean.TRUE.equals(params.watch) ? Boolean.TRUE : null)
                .buildCall(null), V1Node.class, V1NodeList.class);
    }

    static ProxiedObjectsListerWatcher<V1ServiceCIDR, V1ServiceCIDRList> serviceCidrs(ApiClient apiClient) {
        NetworkingV1Api api = new NetworkingV1Api(apiClient);
        return new ProxiedObjectsListerWatcher<>(params -> api.listServiceCIDR()
                .resourceVersion(params.resourceVersion)
                .timeoutSeconds(params.timeoutSeconds)
                .watch(params.watch)
                .allowWatchBookmarks(Boolean.TRUE.equals(params.watch) ? Boolean.TRUE : null)
                .buildCall(null), V1ServiceCIDR.class, V1ServiceCIDRList.class);
    }

    @Override
    public L list(CallGeneratorParams params) throws ApiException {
        try (Response response = execute(calls.build(params))) {
            return TolerantJson.parse(response.body().charStream(), listType);
        } catch (JsonIOException e) {
            throw new ApiException(e.getCause() != null ? e.getCause() : e); // the connection broke mid-list
        } catch (JsonParseException e) {
            throw new ApiException("cannot read the " + listType.getSimpleName() + ": " + e.getMessage());
        }
    }

    @Override
    public Watchable<T> watch(CallGeneratorParams params) throws ApiException {
        Call call = calls.build(params);
        Response response = execute(call);
        return new TolerantWatch<>(call, response.body(), objectType);
    }

    /** Runs a call as client-java does: I/O failures and non-2xx answers become ApiExceptions with the code. */
    private static Response execute(Call call) throws ApiException {
        Response response;
        try {
            response = call.execute();
        } catch (IOException e) {
            throw new ApiException(e); // keeps a ConnectException as the cause, which the reflector looks for
        }
        if (!response.isSuccessful()) {
            String body;
            try (ResponseBody errorBody = response.body()) {
                body = errorBody == null ? null : errorBody.string();
            } catch (IOException e) {
                body = null;
            }
            throw new ApiException(response.message(), response.code(), response.headers().toMultimap(), body);
        }
        return response;
    }
}
