package dev.railyard.overlay.ip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.RequiresPrivileges;
import dev.railyard.testkit.SharedLink;
import java.util.List;
import org.junit.jupiter.api.Test;

@RequiresPrivileges(commands = {"ip"})
class IpRunnerTest {

    @Test
    void aBatchRunsEveryLineAndReportsWhichOnesFailed() {
        try (SharedLink lan = SharedLink.builder().hosts(1).ipv4Subnet("192.168.99.0/24").create()) {
            NetworkNamespace ns = lan.host(0).namespace();
            IpRunner ip = new IpRunner(ns.name());
            BatchResult r = ip.ipBatch(List.of(
                    "route replace 10.1.0.0/24 via 192.168.99.7 dev eth0",
                    "route replace 10.2.0.0/24 via 172.31.0.1 dev eth0", // gateway not on-link: fails
                    "route replace 10.3.0.0/24 via 192.168.99.8 dev eth0"));
            assertThat(r.ok()).isFalse();
            assertThat(r.failures()).singleElement().satisfies(f -> {
                assertThat(f.lineNumber()).isEqualTo(2);
                assertThat(f.line()).contains("10.2.0.0/24");
                assertThat(f.message()).isNotBlank();
            });
            String routes = ns.execChecked("ip", "-4", "route", "show").stdout();
            assertThat(routes).contains("10.1.0.0/24 via 192.168.99.7").contains("10.3.0.0/24 via 192.168.99.8")
                    .doesNotContain("10.2.0.0/24");
        }
    }

    @Test
    void externalInterfaceIsFoundByNameOrAddressAndNamesTheFlagWhenMissing() {
        try (SharedLink lan = SharedLink.builder().hosts(1).ipv4Subnet("192.168.98.0/24").mtu(1400).create()) {
            IpRunner ip = new IpRunner(lan.host(0).namespace().name());
            ExternalInterface byName = ExternalInterface.detect(ip, "eth0", null);
            assertThat(byName).isEqualTo(new ExternalInterface("eth0", Ip4Net.parseAddress("192.168.98.1"),
                    Ip4Net.parse("192.168.98.0/24"), Ip4Net.parseAddress("192.168.98.1"), 1400));
            assertThat(ExternalInterface.detect(ip, "192.168.98.1", "203.0.113.9").publicIp())
                    .isEqualTo(Ip4Net.parseAddress("203.0.113.9"));
            assertThatThrownBy(() -> ExternalInterface.detect(ip, "eth9", null))
                    .hasMessageContaining("no interface matches --iface eth9: no interface with that name or address; "
                            + "interfaces in network namespace " + ip.netns() + ": lo [127.0.0.1], eth0 [192.168.98.1");
            assertThatThrownBy(() -> ExternalInterface.detect(ip, null, null))
                    .hasMessageContaining("no IPv4 default route").hasMessageContaining("--iface");
        }
    }
}
