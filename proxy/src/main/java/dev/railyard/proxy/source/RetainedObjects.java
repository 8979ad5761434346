package dev.railyard.proxy.source;

import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.openapi.models.DiscoveryV1EndpointPort;
import io.kubernetes.client.openapi.models.V1Endpoint;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServicePort;
import io.kubernetes.client.openapi.models.V1ServiceSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Makes a freshly decoded API object cheap to keep: the sources hold every Service and EndpointSlice of the
 * cluster for as long as it exists (the informers' caches, the manifest source's last good read), and
 * client-java's model classes spend most of their memory on nothing. Each {@code V1Endpoint} comes with an
 * empty {@code HashMap} and a ten-slot {@code ArrayList} for its one address, and every node name is a separate
 * copy of the same string: with 100,000 endpoints that was about 20 MB of a daemon meant to fit in 300 MB.
 *
 * <p>What is never read is dropped (managed fields, a Service's selector, an endpoint's pod reference), empty collections become shared
 * immutable ones, and the strings that repeat across the whole cluster (node names, zones, port names, protocols,
 * kinds) become one instance each. The
 * object keeps its meaning for everything Railyard does with it, including comparing two reads of the same
 * object. Called only on objects nobody else holds yet: the transform of an informer, or right after decoding a
 * manifest.
 */
public final class RetainedObjects {

    private RetainedObjects() {
    }

    /** {@code object}, trimmed in place. */
    public static <T extends KubernetesObject> T trim(T object) {
        if (object == null) {
            return null;
        }
        trim(object.getMetadata());
        if (object instanceof V1EndpointSlice) {
            trim((V1EndpointSlice) object);
        } else if (object instanceof V1Service) {
            trim((V1Service) object);
        } else if (object instanceof io.kubernetes.client.openapi.models.V1Node node) {
            node.setStatus(null); // images, conditions, addresses: the proxy reads only labels and spec
        }
        return object;
    }

    private static void trim(V1EndpointSlice slice) {
        slice.setApiVersion(shared(slice.getApiVersion()));
        slice.setKind(shared(slice.getKind()));
        slice.setAddressType(shared(slice.getAddressType()));
        List<V1Endpoint> endpoints = slice.getEndpoints();
        if (endpoints != null) {
            endpoints.forEach(RetainedObjects::trim);
            slice.setEndpoints(compact(endpoints));
        }
        if (slice.getPorts() != null) {
            for (DiscoveryV1EndpointPort port : slice.getPorts()) {
                if (port != null) {
                    port.setName(shared(port.getName()));
                    port.setProtocol(shared(port.getProtocol()));
                }
            }
        }
    }

    private static void trim(V1Service service) {
        service.setApiVersion(shared(service.getApiVersion()));
        service.setKind(shared(service.getKind()));
        V1ServiceSpec spec = service.getSpec();
        if (spec == null) {
            return;
        }
        spec.setSelector(null); // which pods back a Service is the EndpointSlice controller's business, not ours
        spec.setType(shared(spec.getType()));
        spec.setSessionAffinity(shared(spec.getSessionAffinity()));
        spec.setExternalTrafficPolicy(shared(spec.getExternalTrafficPolicy()));
        spec.setInternalTrafficPolicy(shared(spec.getInternalTrafficPolicy()));
        spec.setIpFamilyPolicy(shared(spec.getIpFamilyPolicy()));
        if (spec.getPorts() != null) {
            for (V1ServicePort port : spec.getPorts()) {
                if (port != null) {
                    port.setName(shared(port.getName()));
                    port.setProtocol(shared(port.getProtocol()));
                }
            }
        }
    }

    private static void trim(V1ObjectMeta metadata) {
        if (metadata == null) {
            return;
        }
        metadata.setManagedFields(null);
        metadata.setAnnotations(compact(metadata.getAnnotations()));
        metadata.setLabels(compact(metadata.getLabels()));
        metadata.setFinalizers(compact(metadata.getFinalizers()));
        metadata.setOwnerReferences(compact(metadata.getOwnerReferences()));
    }

    private static void trim(V1Endpoint endpoint) {
        if (endpoint == null) {
            return;
        }
        endpoint.setTargetRef(null);
        endpoint.setAddresses(compact(endpoint.getAddresses()));
        endpoint.setDeprecatedTopology(compact(endpoint.getDeprecatedTopology()));
        endpoint.setNodeName(shared(endpoint.getNodeName()));
        endpoint.setZone(shared(endpoint.getZone()));
    }

    /**
     * One instance of a string that repeats across the cluster: node names, zones, port names, protocols, kinds.
     * Each set is small (a cluster has a few thousand nodes at most), so the JVM's intern table stays small too.
     */
    private static String shared(String value) {
        return value == null ? null : value.intern();
    }

    /** Null stays null (the API's "not set"); an empty map becomes the shared empty one. */
    private static <K, V> Map<K, V> compact(Map<K, V> map) {
        return map == null || !map.isEmpty() ? map : Map.of();
    }

    /**
     * Null stays null; otherwise a list of exactly its size. Not {@code List.copyOf}: API lists may hold nulls,
     * which a decoder accepts and the converters report with the field's path.
     */
    private static <E> List<E> compact(List<E> list) {
        if (list == null) {
            return null;
        }
        if (list.isEmpty()) {
            return List.of();
        }
        if (list instanceof ArrayList) {
            ((ArrayList<E>) list).trimToSize();
        }
        return list;
    }

}
