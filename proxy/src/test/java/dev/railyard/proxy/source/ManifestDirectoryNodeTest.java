package dev.railyard.proxy.source;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.sync.ChangeTracker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A directory of manifests as {@code kubectl get nodes,servicecidrs,svc,endpointslices -A -o yaml} writes it: this
 * node's Node gives the zone, the ServiceCIDRs the service CIDRs, and an edit of the Node's label reaches the state
 * without a restart; other nodes are ignored.
 */
class ManifestDirectoryNodeTest {
    @TempDir
    Path dir;

    private static String cluster(String zone) {
        return """
                apiVersion: v1
                kind: List
                items:
                - apiVersion: v1
                  kind: Node
                  metadata: {name: node-a, labels: {topology.kubernetes.io/zone: %s}}
                  spec: {podCIDRs: [10.244.1.0/24]}
                - apiVersion: v1
                  kind: Node
                  metadata: {name: node-b, labels: {topology.kubernetes.io/zone: zone-b}}
                - apiVersion: networking.k8s.io/v1
                  kind: ServiceCIDR
                  metadata: {name: kubernetes}
                  spec: {cidrs: [10.96.0.0/16, "fd00:96::/112"]}
                - apiVersion: v1
                  kind: Service
                  metadata: {name: web, namespace: ns}
                  spec: {clusterIP: 10.96.0.20, ports: [{port: 80, protocol: TCP}]}
                """.formatted(zone);
    }

    @Test
    void thisNodesZoneAndTheServiceCidrsComeFromTheManifestsAndFollowEdits() throws Exception {
        Files.writeString(dir.resolve("cluster.yaml"), cluster("zone-a"));
        ChangeTracker tracker = new ChangeTracker("node-a", () -> { });
        try (ManifestDirectorySource source = new ManifestDirectorySource(dir, tracker, Duration.ofMillis(200),
                Duration.ofMillis(20))) {
            source.start();
            await(tracker::isSynced);
            var state = tracker.drain(IpFamily.V4).state();
            assertThat(state.zone()).isEqualTo("zone-a");
            assertThat(state.serviceCidrs()).containsExactly("10.96.0.0/16");
            assertThat(tracker.drain(IpFamily.V6).state().serviceCidrs()).containsExactly("fd00:96::/112");

            Files.writeString(dir.resolve("cluster.yaml"), cluster("zone-c"));
            await(() -> tracker.zone().equals("zone-c"));
            var update = tracker.drain(IpFamily.V4);
            assertThat(update.contextChanged()).isTrue();
            assertThat(update.state().zone()).isEqualTo("zone-c");
            assertThat(source.problems()).isEmpty();
        }
        assertThat(ManifestLoader.load(List.of(dir.resolve("cluster.yaml"))).node("node-a").orElseThrow().podCidrs())
                .containsExactly("10.244.1.0/24");
    }

    private static void await(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out");
            }
            Thread.sleep(20);
        }
    }
}
