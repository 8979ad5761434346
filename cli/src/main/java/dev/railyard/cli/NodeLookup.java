package dev.railyard.cli;

import dev.railyard.proxy.source.ClusterSnapshot;
import dev.railyard.proxy.source.ManifestLoader;
import dev.railyard.proxy.source.NodeInfo;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * This node's Node object at start, read once and again until it has pod CIDRs, as kube-proxy's node manager
 * waits for them before NodeCIDR detection can be set up: a GET of the Node from the API server, or the
 * {@code kind: Node} of this name among the manifests.
 */
abstract class NodeLookup {
    private static final Logger log = LoggerFactory.getLogger(NodeLookup.class);
    private static final Duration POLL = Duration.ofSeconds(1);

    /** The Node now, if it exists. */
    abstract Optional<NodeInfo> read();

    /** Polls {@link #read} until the Node has pod CIDRs; empty after {@code timeout}. */
    List<String> awaitPodCidrs(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<NodeInfo> node = read();
            if (node.isPresent() && !node.get().podCidrs().isEmpty()) {
                return node.get().podCidrs();
            }
            if (System.nanoTime() >= deadline) {
                return List.of();
            }
            log.info("waiting for this node's pod CIDRs ({})", node.isPresent() ? "none yet" : "no Node object yet");
            Thread.sleep(POLL.toMillis());
        }
    }

    static NodeLookup fromApiServer(ApiClient client, String nodeName) {
        CoreV1Api api = new CoreV1Api(client);
        return new NodeLookup() {
            @Override
            Optional<NodeInfo> read() {
                try {
                    return Optional.of(NodeInfo.of(api.readNode(nodeName).execute()));
                } catch (ApiException e) {
                    log.debug("GET node {}: {}", nodeName, e.getCode());
                    return Optional.empty();
                }
            }
        };
    }

    static NodeLookup fromManifests(Path directory, String nodeName) {
        return new NodeLookup() {
            @Override
            Optional<NodeInfo> read() {
                List<Path> files = new ArrayList<>();
                try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
                    for (Path entry : entries) {
                        String name = entry.getFileName().toString().toLowerCase(Locale.ROOT);
                        if (!name.startsWith(".") && Files.isRegularFile(entry) && (name.endsWith(".yaml")
                                || name.endsWith(".yml") || name.endsWith(".json"))) {
                            files.add(entry);
                        }
                    }
                    files.sort(null);
                    ClusterSnapshot snapshot = ManifestLoader.load(files);
                    return snapshot.node(nodeName);
                } catch (IOException | RuntimeException | dev.railyard.proxy.source.ManifestSyntaxException e) {
                    log.debug("reading {} for node {}: {}", directory, nodeName, e.toString());
                    return Optional.empty();
                }
            }
        };
    }
}
