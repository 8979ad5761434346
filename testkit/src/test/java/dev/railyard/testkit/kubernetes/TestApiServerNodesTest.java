package dev.railyard.testkit.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeCondition;
import io.kubernetes.client.openapi.models.V1NodeSpec;
import io.kubernetes.client.openapi.models.V1NodeStatus;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1ServiceCIDR;
import io.kubernetes.client.openapi.models.V1ServiceCIDRSpec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Nodes and ServiceCIDRs served as the API server serves them, and PATCH as flannel and kubelet send it. */
class TestApiServerNodesTest {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void servesClusterScopedKindsAndMergesPatchesOfObjectsAndTheirStatus() throws Exception {
        try (TestApiServer api = TestApiServer.start()) {
            api.create(new V1Node().metadata(new V1ObjectMeta().name("node-a")
                            .labels(Map.of("topology.kubernetes.io/zone", "zone-a")))
                    .spec(new V1NodeSpec().podCIDRs(List.of("10.244.1.0/24")))
                    .status(new V1NodeStatus().conditions(List.of(
                            new V1NodeCondition().type("Ready").status("True")))));
            api.create(new V1ServiceCIDR().metadata(new V1ObjectMeta().name("kubernetes"))
                    .spec(new V1ServiceCIDRSpec().cidrs(List.of("10.96.0.0/12"))));

            JsonObject list = get(api, "/api/v1/nodes");
            assertThat(list.get("kind").getAsString()).isEqualTo("NodeList");
            assertThat(list.getAsJsonArray("items").get(0).getAsJsonObject().getAsJsonObject("metadata")
                    .has("namespace")).as("cluster-scoped").isFalse();
            assertThat(get(api, "/apis/networking.k8s.io/v1/servicecidrs").getAsJsonArray("items").get(0)
                    .getAsJsonObject().getAsJsonObject("spec").getAsJsonArray("cidrs").get(0).getAsString())
                    .isEqualTo("10.96.0.0/12");

            // flannel: annotations with a strategic merge patch of the node, then a condition through /status.
            HttpResponse<String> annotated = patch(api, "/api/v1/nodes/node-a",
                    "application/strategic-merge-patch+json",
                    "{\"metadata\":{\"annotations\":{\"flannel.alpha.coreos.com/public-ip\":\"192.0.2.1\"}}}");
            assertThat(annotated.statusCode()).as(annotated.body()).isEqualTo(200);
            HttpResponse<String> condition = patch(api, "/api/v1/nodes/node-a/status",
                    "application/strategic-merge-patch+json", "{\"status\":{\"conditions\":[{\"type\":"
                            + "\"NetworkUnavailable\",\"status\":\"False\",\"reason\":\"FlannelIsUp\"}]}}");
            assertThat(condition.statusCode()).isEqualTo(200);
            V1Node node = api.get(TestApiServer.Resource.NODES, null, "node-a");
            assertThat(node.getMetadata().getAnnotations())
                    .containsEntry("flannel.alpha.coreos.com/public-ip", "192.0.2.1");
            assertThat(node.getStatus().getConditions()).extracting(V1NodeCondition::getType)
                    .containsExactly("Ready", "NetworkUnavailable");
            assertThat(node.getMetadata().getLabels()).as("untouched by the patches")
                    .containsEntry("topology.kubernetes.io/zone", "zone-a");

            // A merge patch replaces lists; a status field sent to the object itself is ignored.
            patch(api, "/api/v1/nodes/node-a", "application/merge-patch+json",
                    "{\"metadata\":{\"labels\":{\"topology.kubernetes.io/zone\":null}},"
                            + "\"status\":{\"conditions\":[]}}");
            node = api.get(TestApiServer.Resource.NODES, null, "node-a");
            assertThat(node.getMetadata().getLabels()).doesNotContainKey("topology.kubernetes.io/zone");
            assertThat(node.getStatus().getConditions()).hasSize(2);
            assertThat(get(api, "/api/v1/nodes/node-a").getAsJsonObject("metadata").get("resourceVersion")
                    .getAsString()).isEqualTo(Long.toString(api.resourceVersion()));
            assertThat(api.patchRequests()).isEqualTo(3);

            assertThat(patch(api, "/api/v1/nodes/node-b/status", "application/merge-patch+json", "{}")
                    .statusCode()).isEqualTo(404);
            assertThat(patch(api, "/api/v1/nodes/node-a", "application/json-patch+json", "[]").statusCode())
                    .isEqualTo(415);
        }
    }

    @Test
    void aNodeStatusPatchKeepsMetadataAsTheNodeStatusStrategyDoes() throws Exception {
        try (TestApiServer api = TestApiServer.start()) {
            api.create(new V1Node().metadata(new V1ObjectMeta().name("node-b"))
                    .spec(new V1NodeSpec().podCIDRs(List.of("10.244.2.0/24"))));
            // flannel's AcquireLease: annotations in a strategic merge patch of nodes/<name>/status
            HttpResponse<String> annotated = patch(api, "/api/v1/nodes/node-b/status",
                    "application/strategic-merge-patch+json", "{\"metadata\":{\"annotations\":{"
                            + "\"flannel.alpha.coreos.com/backend-type\":\"vxlan\"}},\"spec\":{\"podCIDR\":\"10.9.9.0/24\"}}");
            assertThat(annotated.statusCode()).as(annotated.body()).isEqualTo(200);
            V1Node node = api.get(TestApiServer.Resource.NODES, null, "node-b");
            assertThat(node.getMetadata().getAnnotations()).containsEntry("flannel.alpha.coreos.com/backend-type", "vxlan");
            assertThat(node.getSpec().getPodCIDR()).as("spec is not changed through status").isNull();
        }
    }

    private JsonObject get(TestApiServer api, String path) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(api.url() + path)).GET()
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(path).isEqualTo(200);
        return JsonParser.parseString(response.body()).getAsJsonObject();
    }

    private HttpResponse<String> patch(TestApiServer api, String path, String type, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(api.url() + path)).header("Content-Type", type)
                .method("PATCH", HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
