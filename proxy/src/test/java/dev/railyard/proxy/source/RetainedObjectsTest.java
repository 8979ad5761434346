package dev.railyard.proxy.source;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonParser;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import org.junit.jupiter.api.Test;

class RetainedObjectsTest {

    private static final String SLICE = """
            {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
             "metadata": {"name": "web-abc", "namespace": "shop",
                          "labels": {"kubernetes.io/service-name": "web"},
                          "annotations": {"endpoints.kubernetes.io/last-change-trigger-time": "2026-11-23T10:00:00Z"},
                          "managedFields": [{"manager": "kube-controller-manager", "operation": "Update"}]},
             "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
             "endpoints": [
               {"addresses": ["10.1.0.5"], "nodeName": "node-a", "zone": "zone-1",
                "conditions": {"ready": true}, "targetRef": {"kind": "Pod", "name": "web-1", "namespace": "shop"}},
               {"addresses": ["10.1.0.6"], "nodeName": "node-a", "zone": "zone-1",
                "conditions": {"ready": false, "serving": true, "terminating": true}}]}
            """;

    @Test
    void trimmedSliceConvertsToTheSameEndpointsAndKeepsWhatTheTrackerReads() throws Exception {
        V1EndpointSlice untouched = decode();
        V1EndpointSlice trimmed = RetainedObjects.trim(decode());

        assertThat(EndpointSliceConverter.convert(trimmed).endpoints())
                .isEqualTo(EndpointSliceConverter.convert(untouched).endpoints());
        assertThat(trimmed.getMetadata().getAnnotations()).isEqualTo(untouched.getMetadata().getAnnotations());
        assertThat(trimmed.getMetadata().getLabels()).isEqualTo(untouched.getMetadata().getLabels());
        assertThat(RetainedObjects.trim(decode())).isEqualTo(trimmed);
    }

    @Test
    void dropsWhatIsNeverReadAndSharesWhatRepeats() throws Exception {
        V1EndpointSlice first = RetainedObjects.trim(decode());
        V1EndpointSlice second = RetainedObjects.trim(decode());

        assertThat(first.getMetadata().getManagedFields()).isNull();
        assertThat(first.getEndpoints().get(0).getTargetRef()).isNull();
        assertThat(first.getEndpoints().get(0).getNodeName())
                .isSameAs(first.getEndpoints().get(1).getNodeName())
                .isSameAs(second.getEndpoints().get(0).getNodeName());
        assertThat(first.getEndpoints().get(1).getZone()).isSameAs(second.getEndpoints().get(1).getZone());
        assertThat(first.getEndpoints().get(0).getDeprecatedTopology()).isEmpty();
        assertThat(first.getEndpoints().get(0).getDeprecatedTopology())
                .isSameAs(second.getEndpoints().get(0).getDeprecatedTopology());
        assertThat(first.getMetadata().getFinalizers()).isSameAs(second.getMetadata().getFinalizers());
    }

    private static V1EndpointSlice decode() throws InvalidFieldException {
        return KubeObjects.bind(JsonParser.parseString(SLICE), V1EndpointSlice.class);
    }
}
