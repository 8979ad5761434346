package dev.railyard.proxy.inspect.nftables;

import dev.railyard.proxy.inspect.LocalAddresses;
import dev.railyard.proxy.inspect.Origin;
import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.render.nftables.Layout;
import dev.railyard.proxy.render.nftables.NftCompatCase;
import dev.railyard.proxy.source.ClusterSnapshot;
import dev.railyard.proxy.source.ManifestLoader;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** kube-proxy's nftables test cases as rulesets to trace: Railyard's render of a case, and the fake's node. */
final class NftCompatRules {
    private NftCompatRules() {
    }

    /** Railyard's render of the case's manifests with the fake proxier's settings, in {@code layout}. */
    static NftablesServiceRuleset render(NftCompatCase testCase, Layout layout) throws Exception {
        IpFamily family = IpFamily.of(testCase.ipFamily());
        ClusterSnapshot snapshot = ManifestLoader.load(List.of(testCase.manifests()));
        if (!snapshot.problems().isEmpty()) {
            throw new IllegalStateException(testCase + ": " + snapshot.problems());
        }
        return NftablesServiceRuleset.fromRender("railyard " + layout.name().toLowerCase(java.util.Locale.ROOT)
                + " " + testCase.name(), config(testCase, family), layout,
                snapshot.state(family, testCase.nodeName())).withLocalAddresses("railyard " + testCase.name(),
                localAddresses(testCase));
    }

    /** The fake proxier as a render configuration (its interfaces' addresses are the node's). */
    static RenderConfig config(NftCompatCase testCase, IpFamily family) {
        List<String> nodeIps = new ArrayList<>(testCase.nodeIps());
        for (String address : testCase.nodeInterfaceAddresses()) {
            String ip = address.substring(0, address.indexOf('/'));
            if (!nodeIps.contains(ip) && !ip.equals("127.0.0.1") && !ip.equals("::1")) {
                nodeIps.add(ip);
            }
        }
        return RenderConfig.builder(family)
                .nodeName(testCase.nodeName())
                .nodeIps(nodeIps)
                .clusterCidrs(testCase.clusterCidr().map(List::of).orElse(List.of()))
                .serviceCidrs(testCase.serviceCidrs())
                .nodePortAddresses(testCase.nodePortAddresses())
                .masqueradeMark(testCase.masqueradeMark())
                .masqueradeAll(testCase.masqueradeAll())
                .build();
    }

    /** The fake proxier's node: loopback, its node IPs and every address of its fake interfaces. */
    static LocalAddresses localAddresses(NftCompatCase testCase) {
        Set<String> ips = new LinkedHashSet<>(testCase.nodeIps());
        for (String cidr : testCase.nodeInterfaceAddresses()) {
            ips.add(cidr.substring(0, cidr.indexOf('/')));
        }
        return LocalAddresses.of(new ArrayList<>(ips));
    }

    /** Where a flow's packet comes from: the node for a local source, a pod inside the cluster CIDR. */
    static Origin origin(NftCompatCase testCase, LocalAddresses local, String source) {
        if (local.isLocal(IpAddresses.parse(source))) {
            return Origin.NODE;
        }
        return testCase.clusterCidr().map(IpAddresses::parseCidr).filter(c -> c.getIPVersion()
                == IpAddresses.parse(source).getIPVersion() && c.contains(IpAddresses.parse(source))).isPresent()
                ? Origin.POD : Origin.EXTERNAL;
    }
}
