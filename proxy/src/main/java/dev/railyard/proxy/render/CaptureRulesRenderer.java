package dev.railyard.proxy.render;

import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ServicePort;

import inet.ipaddr.IPAddress;

import java.net.InetAddress;
import java.util.List;
import java.util.Locale;

/**
 * The nat rules of userspace mode, as kube-proxy's old userspace proxier wrote them: traffic to a service's
 * cluster IP, external IPs and load-balancer IPs, and to its NodePort on any local address, is sent to the
 * port the proxy listens on. The CONTAINER chains hang off PREROUTING (traffic from pods and other hosts),
 * the HOST chains off OUTPUT (this host's own processes). When the proxy listens on the wildcard address,
 * REDIRECT sends the first to the address the packet arrived on and the second to loopback. When it listens on
 * one address only, REDIRECT would miss it (an interface's primary address need not be the one it was given),
 * so the rules DNAT to that address instead, as kube-proxy did. Replies, including UDP ones, are un-NATed by
 * conntrack and leave from the service address. One renderer per family: the same chains and rules serve
 * iptables and ip6tables.
 *
 * <p>spec.loadBalancerSourceRanges are not in these rules: load-balancer traffic of a service that has them is
 * redirected, from any source, to a listener of its own, which admits only clients in the ranges and counts the
 * others. Matching the ranges here instead would leave traffic from other sources uncaptured, to fall through to
 * whatever else the node does with the VIP, rather than refused, and no DROP can be written in the nat table.
 *
 * <p>The whole rule set is a few lines per service port, so every sync rewrites the four chains in one
 * {@code iptables-restore --noflush} (declaring a chain flushes it) rather than tracking changes.
 * SCTP ports are skipped: the proxy does not listen for them.
 */
public final class CaptureRulesRenderer {
    private static final List<String> CHAINS = List.of(Chains.PORTALS_CONTAINER, Chains.PORTALS_HOST,
            Chains.NODEPORT_CONTAINER, Chains.NODEPORT_HOST);

    private final IpFamily family;
    /** "IP:" or "[IP]:" to DNAT to, or null to REDIRECT. */
    private final String dnatPrefix;

    /** Rules for a proxy listening on the family's wildcard address: REDIRECT. */
    public CaptureRulesRenderer(IpFamily family) {
        this.family = family;
        this.dnatPrefix = null;
    }

    /**
     * Rules for a proxy listening on {@code listenAddress}: REDIRECT when it is the wildcard address, DNAT to it
     * otherwise.
     *
     * @throws IllegalArgumentException if the address is not of this family
     */
    public CaptureRulesRenderer(IpFamily family, InetAddress listenAddress) {
        IPAddress address = IpAddresses.parse(listenAddress.getHostAddress());
        if (IpAddresses.familyOf(address) != family) {
            throw new IllegalArgumentException("capture address " + listenAddress.getHostAddress() + " is not "
                    + family.kubernetesName());
        }
        this.family = family;
        if (listenAddress.isAnyLocalAddress()) {
            this.dnatPrefix = null;
        } else {
            String ip = IpAddresses.canonical(address);
            this.dnatPrefix = family == IpFamily.V4 ? ip + ":" : "[" + ip + "]:";
        }
    }

    /** The chains this renderer owns, for cleanup. */
    public static List<String> chains() {
        return CHAINS;
    }

    public LineBuffer render(List<CaptureTarget> targets) {
        LineBuffer out = new LineBuffer(256 + targets.size() * 512);
        out.raw("*nat").end();
        for (String chain : CHAINS) {
            out.chainLine(chain);
        }
        for (CaptureTarget target : targets) {
            ServicePort service = target.service();
            if (service.protocol() == Protocol.SCTP) {
                continue;
            }
            portal(out, service, service.clusterIp(), target.internalPort());
            for (String ip : service.externalIps()) {
                portal(out, service, ip, target.externalPort());
            }
            if (target.loadBalancerPort() != CaptureTarget.NOT_CAPTURED) {
                for (String ip : service.loadBalancerIps()) {
                    portal(out, service, ip, target.loadBalancerPort());
                }
            }
            if (service.nodePort() > 0) {
                for (String chain : List.of(Chains.NODEPORT_CONTAINER, Chains.NODEPORT_HOST)) {
                    rule(out, chain, service).word("--dport").word(service.nodePort());
                    capture(out, target.externalPort());
                }
            }
        }
        out.raw("COMMIT").end();
        return out;
    }

    /** Both chains' rules for one service address. */
    private void portal(LineBuffer out, ServicePort service, String ip, int proxyPort) {
        if (ip == null || ip.isEmpty() || IpAddresses.familyOf(IpAddresses.parse(ip)) != family) {
            return;
        }
        String destination = ip + (family == IpFamily.V4 ? "/32" : "/128");
        for (String chain : List.of(Chains.PORTALS_CONTAINER, Chains.PORTALS_HOST)) {
            rule(out, chain, service);
            out.word("-d").word(destination).word("--dport").word(service.port());
            capture(out, proxyPort);
        }
    }

    private static LineBuffer rule(LineBuffer out, String chain, ServicePort service) {
        String protocol = service.protocol().name().toLowerCase(Locale.ROOT);
        return out.word("-A").word(chain).word("-m").word("comment").word("--comment")
                .word("\"" + service.name() + "\"").word("-p").word(protocol).word("-m").word(protocol);
    }

    private void capture(LineBuffer out, int proxyPort) {
        if (dnatPrefix == null) {
            out.word("-j").word("REDIRECT").word("--to-ports").word(proxyPort);
        } else {
            out.word("-j").word("DNAT").word("--to-destination").word(dnatPrefix + proxyPort);
        }
        out.end();
    }
}
