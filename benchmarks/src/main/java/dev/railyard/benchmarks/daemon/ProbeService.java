package dev.railyard.benchmarks.daemon;

import dev.railyard.benchmarks.ClusterGenerator;
import io.kubernetes.client.openapi.models.V1Endpoint;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1Service;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The one service of a generated cluster whose endpoints are real: a plain ClusterIP TCP service of one port
 * (no affinity, no local traffic policy) from the middle of the cluster, its slice's endpoints replaced by served
 * pod addresses. Every other service keeps the generator's unreachable addresses.
 *
 * @param objects    the cluster with the probe's slice replaced
 * @param key        "namespace/name", as sync results name changed services
 * @param target     cluster IP and service port
 * @param targetPort the port the pod serves
 * @param slice      the probe's slice as handed over at the start
 */
record ProbeService(ClusterObjects objects, String key, InetSocketAddress target, int targetPort,
                    V1EndpointSlice slice) {

    /** Picks the probe in {@code objects} and gives it the {@code endpoints} addresses. */
    static ProbeService pick(ClusterObjects objects, List<String> endpoints) {
        int middle = objects.services().size() / 2;
        for (int offset = 0; offset < objects.services().size(); offset++) {
            int at = (middle + offset) % objects.services().size();
            V1Service service = objects.services().get(at);
            if (!plain(service)) {
                continue;
            }
            V1EndpointSlice original = objects.slices().get(at);
            String name = service.getMetadata().getName();
            if (!name.equals(original.getMetadata().getLabels().get(ClusterObjects.SERVICE_NAME_LABEL))) {
                throw new IllegalStateException("services and slices are not in the same order at " + at);
            }
            V1EndpointSlice slice = withEndpoints(original, endpoints);
            List<V1EndpointSlice> slices = new ArrayList<>(objects.slices());
            slices.set(at, slice);
            return new ProbeService(new ClusterObjects(objects.services(), List.copyOf(slices)),
                    service.getMetadata().getNamespace() + "/" + name,
                    new InetSocketAddress(service.getSpec().getClusterIP(), service.getSpec().getPorts().get(0).getPort()),
                    original.getPorts().get(0).getPort(), slice);
        }
        throw new IllegalStateException("no plain ClusterIP TCP service in the cluster");
    }

    private static boolean plain(V1Service service) {
        var spec = service.getSpec();
        return "ClusterIP".equals(spec.getType()) && spec.getPorts().size() == 1
                && "TCP".equals(spec.getPorts().get(0).getProtocol()) && spec.getSessionAffinity() == null
                && spec.getInternalTrafficPolicy() == null
                && (spec.getExternalIPs() == null || spec.getExternalIPs().isEmpty());
    }

    /** The same slice (name, ports) with exactly these ready endpoints on this node. */
    static V1EndpointSlice withEndpoints(V1EndpointSlice slice, List<String> addresses) {
        List<V1Endpoint> endpoints = new ArrayList<>(addresses.size());
        for (String address : addresses) {
            endpoints.add(ClusterObjects.endpoint(address, ClusterGenerator.NODE_NAME, true, true, false));
        }
        return new V1EndpointSlice().apiVersion(slice.getApiVersion()).kind(slice.getKind())
                .addressType(slice.getAddressType()).metadata(slice.getMetadata()).ports(slice.getPorts())
                .endpoints(endpoints);
    }
}
