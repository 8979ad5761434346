package dev.railyard.proxy.source;

import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.IpFamily;
import inet.ipaddr.IPAddress;
import io.kubernetes.client.openapi.models.V1ServiceCIDR;

import java.util.ArrayList;
import java.util.List;

/** Reads the CIDRs of a networking.k8s.io/v1 ServiceCIDR, as kube-proxy collects them for nftables mode. */
public final class ServiceCidrs {
    private ServiceCidrs() {
    }

    /** spec.cidrs, canonical; every entry is validated before anything is returned. */
    public static List<String> of(V1ServiceCIDR object) throws InvalidFieldException {
        if (object.getMetadata() == null || object.getMetadata().getName() == null) {
            throw new InvalidFieldException("metadata.name", "missing");
        }
        List<String> cidrs = object.getSpec() == null ? List.of() : Fields.list(object.getSpec().getCidrs(), "spec.cidrs");
        List<String> result = new ArrayList<>(cidrs.size());
        for (int i = 0; i < cidrs.size(); i++) {
            try {
                result.add(IpAddresses.canonicalCidr(IpAddresses.parseCidr(cidrs.get(i).trim())));
            } catch (IllegalArgumentException e) {
                throw new InvalidFieldException("spec.cidrs[" + i + "]", e.getMessage());
            }
        }
        return List.copyOf(result);
    }

    /** The CIDRs of {@code family} among {@code cidrs}, in order, without repeats. */
    public static List<String> ofFamily(Iterable<String> cidrs, IpFamily family) {
        List<String> result = new ArrayList<>();
        for (String text : cidrs) {
            IPAddress cidr = IpAddresses.parseCidr(text);
            if (IpAddresses.familyOf(cidr) == family && !result.contains(text)) {
                result.add(text);
            }
        }
        return List.copyOf(result);
    }
}
