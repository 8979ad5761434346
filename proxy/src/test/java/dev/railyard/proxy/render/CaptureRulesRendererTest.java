package dev.railyard.proxy.render;

import dev.railyard.proxy.model.Cidr;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CaptureRulesRendererTest {
    @Test
    void redirectsEveryServiceAddressAndTheNodePortToTheProxyPorts() {
        ServicePort web = ServicePort.builder(name("web", "http", Protocol.TCP), "10.96.0.10", 80)
                .nodePort(30080).externalIps(List.of("192.0.2.10"))
                .loadBalancerIps(List.of("203.0.113.5"))
                .loadBalancerSourceRanges(List.of(Cidr.parse("198.51.100.0/24"), Cidr.parse("192.0.2.0/28"))).build();
        ServicePort dns = ServicePort.builder(name("dns", "dns", Protocol.UDP), "10.96.0.53", 53).build();
        ServicePort sctp = ServicePort.builder(name("sig", "sig", Protocol.SCTP), "10.96.0.99", 9999).build();

        String rules = new CaptureRulesRenderer(IpFamily.V4).render(List.of(
                new CaptureTarget(web, 41000, 41001, 41004), CaptureTarget.of(dns, 41002),
                CaptureTarget.of(sctp, 41003))).toString();

        // The source ranges are not in the rules: every source goes to the filtering listener on 41004.

        assertThat(rules).isEqualTo("""
                *nat
                :KUBE-PORTALS-CONTAINER - [0:0]
                :KUBE-PORTALS-HOST - [0:0]
                :KUBE-NODEPORT-CONTAINER - [0:0]
                :KUBE-NODEPORT-HOST - [0:0]
                -A KUBE-PORTALS-CONTAINER -m comment --comment "default/web:http" -p tcp -m tcp -d 10.96.0.10/32 --dport 80 -j REDIRECT --to-ports 41000
                -A KUBE-PORTALS-HOST -m comment --comment "default/web:http" -p tcp -m tcp -d 10.96.0.10/32 --dport 80 -j REDIRECT --to-ports 41000
                -A KUBE-PORTALS-CONTAINER -m comment --comment "default/web:http" -p tcp -m tcp -d 192.0.2.10/32 --dport 80 -j REDIRECT --to-ports 41001
                -A KUBE-PORTALS-HOST -m comment --comment "default/web:http" -p tcp -m tcp -d 192.0.2.10/32 --dport 80 -j REDIRECT --to-ports 41001
                -A KUBE-PORTALS-CONTAINER -m comment --comment "default/web:http" -p tcp -m tcp -d 203.0.113.5/32 --dport 80 -j REDIRECT --to-ports 41004
                -A KUBE-PORTALS-HOST -m comment --comment "default/web:http" -p tcp -m tcp -d 203.0.113.5/32 --dport 80 -j REDIRECT --to-ports 41004
                -A KUBE-NODEPORT-CONTAINER -m comment --comment "default/web:http" -p tcp -m tcp --dport 30080 -j REDIRECT --to-ports 41001
                -A KUBE-NODEPORT-HOST -m comment --comment "default/web:http" -p tcp -m tcp --dport 30080 -j REDIRECT --to-ports 41001
                -A KUBE-PORTALS-CONTAINER -m comment --comment "default/dns:dns" -p udp -m udp -d 10.96.0.53/32 --dport 53 -j REDIRECT --to-ports 41002
                -A KUBE-PORTALS-HOST -m comment --comment "default/dns:dns" -p udp -m udp -d 10.96.0.53/32 --dport 53 -j REDIRECT --to-ports 41002
                COMMIT
                """);
    }

    @Test
    void specificListenAddressIsReachedThroughDnat() throws Exception {
        ServicePort web = ServicePort.builder(name("web", "http", Protocol.TCP), "10.96.0.10", 80).nodePort(30080)
                .build();
        ServicePort web6 = ServicePort.builder(name("web", "http", Protocol.TCP), "fd00:96::10", 80).build();

        String v4 = new CaptureRulesRenderer(IpFamily.V4, InetAddress.getByName("10.0.0.5"))
                .render(List.of(new CaptureTarget(web, 41000, 41001, 41001))).toString();
        String v6 = new CaptureRulesRenderer(IpFamily.V6, InetAddress.getByName("fd00:0:0::5"))
                .render(List.of(CaptureTarget.of(web6, 41002))).toString();

        assertThat(v4).contains(
                "-A KUBE-PORTALS-CONTAINER -m comment --comment \"default/web:http\" -p tcp -m tcp -d 10.96.0.10/32 "
                        + "--dport 80 -j DNAT --to-destination 10.0.0.5:41000\n",
                "-A KUBE-PORTALS-HOST -m comment --comment \"default/web:http\" -p tcp -m tcp -d 10.96.0.10/32 "
                        + "--dport 80 -j DNAT --to-destination 10.0.0.5:41000\n",
                "-A KUBE-NODEPORT-CONTAINER -m comment --comment \"default/web:http\" -p tcp -m tcp --dport 30080 "
                        + "-j DNAT --to-destination 10.0.0.5:41001\n").doesNotContain("REDIRECT");
        assertThat(v6).contains("-d fd00:96::10/128 --dport 80 -j DNAT --to-destination [fd00::5]:41002\n");
    }

    @Test
    void wildcardListenAddressIsReachedThroughRedirect() throws Exception {
        ServicePort web = ServicePort.builder(name("web", "http", Protocol.TCP), "10.96.0.10", 80).build();

        String rules = new CaptureRulesRenderer(IpFamily.V4, InetAddress.getByName("0.0.0.0"))
                .render(List.of(CaptureTarget.of(web, 41000))).toString();

        assertThat(rules).contains("-j REDIRECT --to-ports 41000").doesNotContain("DNAT");
        assertThatThrownBy(() -> new CaptureRulesRenderer(IpFamily.V6, InetAddress.getByName("10.0.0.5")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("10.0.0.5");
    }

    @Test
    void loadBalancerTrafficWithoutItsListenerIsNotCaptured() {
        ServicePort web = ServicePort.builder(name("web", "", Protocol.TCP), "10.96.0.10", 80)
                .loadBalancerIps(List.of("203.0.113.5")).loadBalancerSourceRanges(List.of(Cidr.parse("198.51.100.0/24")))
                .build();

        String rules = new CaptureRulesRenderer(IpFamily.V4)
                .render(List.of(new CaptureTarget(web, 41000, 41000, CaptureTarget.NOT_CAPTURED))).toString();

        assertThat(rules).contains("-d 10.96.0.10/32").doesNotContain("203.0.113.5");
    }

    @Test
    void ip6tablesRulesHaveTheSameChainsWithIpv6Destinations() {
        ServicePort web = ServicePort.builder(name("web", "http", Protocol.TCP), "fd00:96::10", 80).nodePort(30080)
                .loadBalancerIps(List.of("2001:db8::5")).loadBalancerSourceRanges(List.of(Cidr.parse("2001:db8:1::/48")))
                .build();

        String rules = new CaptureRulesRenderer(IpFamily.V6)
                .render(List.of(new CaptureTarget(web, 41000, 41001, 41002))).toString();

        assertThat(rules).isEqualTo("""
                *nat
                :KUBE-PORTALS-CONTAINER - [0:0]
                :KUBE-PORTALS-HOST - [0:0]
                :KUBE-NODEPORT-CONTAINER - [0:0]
                :KUBE-NODEPORT-HOST - [0:0]
                -A KUBE-PORTALS-CONTAINER -m comment --comment "default/web:http" -p tcp -m tcp -d fd00:96::10/128 --dport 80 -j REDIRECT --to-ports 41000
                -A KUBE-PORTALS-HOST -m comment --comment "default/web:http" -p tcp -m tcp -d fd00:96::10/128 --dport 80 -j REDIRECT --to-ports 41000
                -A KUBE-PORTALS-CONTAINER -m comment --comment "default/web:http" -p tcp -m tcp -d 2001:db8::5/128 --dport 80 -j REDIRECT --to-ports 41002
                -A KUBE-PORTALS-HOST -m comment --comment "default/web:http" -p tcp -m tcp -d 2001:db8::5/128 --dport 80 -j REDIRECT --to-ports 41002
                -A KUBE-NODEPORT-CONTAINER -m comment --comment "default/web:http" -p tcp -m tcp --dport 30080 -j REDIRECT --to-ports 41001
                -A KUBE-NODEPORT-HOST -m comment --comment "default/web:http" -p tcp -m tcp --dport 30080 -j REDIRECT --to-ports 41001
                COMMIT
                """);
    }

    @Test
    void writesOnlyTheAddressesOfItsFamily() {
        ServicePort dual = ServicePort.builder(name("web", "", Protocol.TCP), "fd00:96::10", 80)
                .externalIps(List.of("192.0.2.10", "2001:db8::10")).build();

        String rules = new CaptureRulesRenderer(IpFamily.V6).render(List.of(CaptureTarget.of(dual, 41000)))
                .toString();

        assertThat(rules).contains("-d fd00:96::10/128 --dport 80", "-d 2001:db8::10/128 --dport 80")
                .doesNotContain("192.0.2.10");
    }

    @Test
    void anEmptyTargetListFlushesTheChains() {
        assertThat(new CaptureRulesRenderer(IpFamily.V4).render(List.of()).toString()).isEqualTo("""
                *nat
                :KUBE-PORTALS-CONTAINER - [0:0]
                :KUBE-PORTALS-HOST - [0:0]
                :KUBE-NODEPORT-CONTAINER - [0:0]
                :KUBE-NODEPORT-HOST - [0:0]
                COMMIT
                """);
    }

    @Test
    void refusesAPortOutOfRange() {
        ServicePort web = ServicePort.builder(name("web", "", Protocol.TCP), "10.96.0.10", 80).build();
        assertThatThrownBy(() -> CaptureTarget.of(web, 0)).hasMessageContaining("out of range 1-65535");
        assertThatThrownBy(() -> new CaptureTarget(web, 41000, 41001, 65536))
                .hasMessageContaining("loadBalancerPort 65536 is out of range 1-65535");
    }

    private static ServicePortName name(String service, String port, Protocol protocol) {
        return ServicePortName.of("default", service, port, protocol);
    }
}
