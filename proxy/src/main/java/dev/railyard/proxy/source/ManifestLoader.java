package dev.railyard.proxy.source;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ServicePort;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1Endpoints;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServiceCIDR;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads Services, EndpointSlices and legacy Endpoints from manifest files into a {@link ClusterSnapshot}. A file
 * that does not parse fails the load; an object that parses but is invalid is skipped with a {@link Problem},
 * and everything else is still loaded.
 */
public final class ManifestLoader {
    private final Map<IpFamily, List<ServicePort>> services = ClusterSnapshot.emptyServices();
    private final Map<String, List<SliceRecord>> slices = new TreeMap<>();
    private final Map<String, List<EndpointSliceConverter.Converted>> legacy = new TreeMap<>();
    private final Set<String> serviceKeys = new HashSet<>();
    private final List<Problem> problems = new ArrayList<>();
    /** Nodes by name: the one named as this node gives its zone (topology) and pod CIDRs (NodeCIDR detection). */
    private final Map<String, NodeInfo> nodes = new TreeMap<>();
    /** The CIDRs of each ServiceCIDR, by name; null while there is none. */
    private Map<String, List<String>> serviceCidrs;
    private int ignored;

    public static ClusterSnapshot load(List<Path> files) throws IOException, ManifestSyntaxException {
        ManifestLoader loader = new ManifestLoader();
        for (Path file : files) {
            loader.add(file.toString(), Files.readString(file, StandardCharsets.UTF_8));
        }
        return loader.snapshot();
    }

    /** For callers that hold manifests in memory; {@code source} names them in problems. */
    public static ClusterSnapshot parse(String source, String text) throws ManifestSyntaxException {
        ManifestLoader loader = new ManifestLoader();
        loader.add(source, text);
        return loader.snapshot();
    }

    public void add(String source, String text) throws ManifestSyntaxException {
        for (ManifestObject object : ManifestReader.read(source, text)) {
            add(object);
        }
    }

    private void add(ManifestObject object) {
        String kind = object.kind();
        String apiVersion = object.apiVersion();
        try {
            object.checkReadable();
            if ("Service".equals(kind) && "v1".equals(apiVersion)) {
                addService(object, KubeObjects.bind(object.json(), V1Service.class));
            } else if ("EndpointSlice".equals(kind) && "discovery.k8s.io/v1".equals(apiVersion)) {
                addSlice(KubeObjects.bind(object.json(), V1EndpointSlice.class));
            } else if ("Endpoints".equals(kind) && "v1".equals(apiVersion)) {
                for (EndpointSliceConverter.Converted converted :
                        EndpointsConverter.convert(KubeObjects.bind(object.json(), V1Endpoints.class))) {
                    legacy.computeIfAbsent(converted.serviceKey(), k -> new ArrayList<>()).add(converted);
                }
            } else if ("Node".equals(kind) && "v1".equals(apiVersion)) {
                NodeInfo node = NodeInfo.of(KubeObjects.bind(object.json(), V1Node.class));
                nodes.put(node.name(), node);
            } else if ("ServiceCIDR".equals(kind) && "networking.k8s.io/v1".equals(apiVersion)) {
                V1ServiceCIDR cidr = KubeObjects.bind(object.json(), V1ServiceCIDR.class);
                List<String> cidrs = ServiceCidrs.of(cidr);
                if (serviceCidrs == null) {
                    serviceCidrs = new TreeMap<>();
                }
                serviceCidrs.put(cidr.getMetadata().getName(), cidrs);
            } else if (kind == null || apiVersion == null) {
                problems.add(new Problem(object.locate(""), object.describe(), kind == null ? "kind" : "apiVersion",
                        "missing; cannot tell what this object is"));
            } else {
                ignored++;
            }
        } catch (InvalidFieldException e) {
            problems.add(new Problem(object.locate(e.field()), object.describe(), e.field(), e.getMessage()));
        } catch (RuntimeException e) {
            // A reader bug must cost this object, not every object after it.
            problems.add(Problem.unexpected(object.locate(""), object.describe(), e));
        }
    }

    private void addService(ManifestObject object, V1Service service) throws InvalidFieldException {
        if (ServiceConverter.ignoredBecause(service) != null) {
            ignored++;
            return;
        }
        Map<IpFamily, List<ServicePort>> ports = ServiceConverter.convert(service);
        String key = ports.values().iterator().next().get(0).name().serviceKey();
        if (!serviceKeys.add(key)) {
            problems.add(new Problem(object.locate("metadata.name"), object.describe(), "metadata.name",
                    "defined twice; the first definition is used"));
            return;
        }
        for (Map.Entry<IpFamily, List<ServicePort>> entry : ports.entrySet()) {
            services.computeIfAbsent(entry.getKey(), f -> new ArrayList<>()).addAll(entry.getValue());
        }
    }

    private void addSlice(V1EndpointSlice slice) throws InvalidFieldException {
        if (EndpointSliceConverter.ignoredBecause(slice) != null) {
            ignored++;
            return;
        }
        EndpointSliceConverter.Converted converted = EndpointSliceConverter.convert(slice);
        slices.computeIfAbsent(converted.serviceKey(), k -> new ArrayList<>())
                .add(new SliceRecord(slice.getMetadata().getName(), converted));
    }

    public ClusterSnapshot snapshot() {
        Map<String, List<EndpointSliceConverter.Converted>> ordered = new TreeMap<>();
        for (Map.Entry<String, List<SliceRecord>> entry : slices.entrySet()) {
            List<SliceRecord> records = new ArrayList<>(entry.getValue());
            records.sort((a, b) -> a.name.compareTo(b.name));
            List<EndpointSliceConverter.Converted> list = new ArrayList<>();
            for (SliceRecord record : records) {
                list.add(record.converted);
            }
            ordered.put(entry.getKey(), list);
        }
        List<String> cidrs = null;
        if (serviceCidrs != null) {
            cidrs = new ArrayList<>();
            for (List<String> list : serviceCidrs.values()) {
                cidrs.addAll(list);
            }
        }
        return new ClusterSnapshot(services, ordered, legacy, problems, ignored, nodes, cidrs);
    }

    private static final class SliceRecord {
        final String name;
        final EndpointSliceConverter.Converted converted;

        SliceRecord(String name, EndpointSliceConverter.Converted converted) {
            this.name = name;
            this.converted = converted;
        }
    }
}
