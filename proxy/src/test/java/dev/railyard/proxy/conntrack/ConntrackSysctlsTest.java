package dev.railyard.proxy.conntrack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.RequiresPrivileges;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** kube-proxy's conntrack settings: which sysctls they set, and setting them in a real (namespaced) kernel. */
class ConntrackSysctlsTest {

    @Test
    void conntrackMaxIsPerCoreTimesCpusWithTheMinimumAsFloor() {
        assertThat(ConntrackConfig.KUBE_PROXY_DEFAULTS.conntrackMax(2)).as("2 x 32768 < 131072").isEqualTo(131072);
        assertThat(ConntrackConfig.KUBE_PROXY_DEFAULTS.conntrackMax(8)).isEqualTo(262144);
        assertThat(ConntrackConfig.UNCHANGED.conntrackMax(64)).as("maxPerCore 0: leave it").isZero();
    }

    @Test
    void zeroValuesLeaveTheKernelAloneAndTcpBeLiberalSetsItsSysctl() {
        assertThat(ConntrackSysctls.wanted(ConntrackConfig.KUBE_PROXY_DEFAULTS, 4)).containsExactly(
                Map.entry("nf_conntrack_max", 131072),
                Map.entry("nf_conntrack_tcp_timeout_established", 86400),
                Map.entry("nf_conntrack_tcp_timeout_close_wait", 3600));
        ConntrackConfig udp = new ConntrackConfig(0, 0, Duration.ZERO, Duration.ZERO, true, Duration.ofSeconds(31),
                Duration.ofSeconds(121));
        assertThat(ConntrackSysctls.wanted(udp, 4)).containsExactly(
                Map.entry("nf_conntrack_tcp_be_liberal", 1),
                Map.entry("nf_conntrack_udp_timeout", 31),
                Map.entry("nf_conntrack_udp_timeout_stream", 121));
        assertThatThrownBy(() -> new ConntrackConfig(-1, 0, Duration.ZERO, Duration.ZERO, false, Duration.ZERO,
                Duration.ZERO)).hasMessageContaining("--conntrack-max-per-core");
    }

    @Test
    @RequiresPrivileges(commands = {"sysctl", "ip", "nft"})
    void theSettingsReachTheKernelOfTheNamespace() throws Exception {
        try (NetworkNamespace ns = NetworkNamespace.create()) {
            ns.execChecked("ip", "link", "set", "lo", "up");
            // The netfilter sysctls exist once conntrack is loaded: a ct rule loads it, as the proxy's rules do.
            ns.execChecked("nft", "add table ip t; add chain ip t c; add rule ip t c ct state new accept");
            ConntrackSysctls sysctls = new ConntrackSysctls(ns.commandPrefix());
            ConntrackConfig config = new ConntrackConfig(0, 0, Duration.ofSeconds(7200), Duration.ofSeconds(1800), true,
                    Duration.ofSeconds(33), Duration.ofSeconds(133));
            assertThat(sysctls.apply(config)).hasSize(5);
            assertThat(sysctls.read("net.netfilter.nf_conntrack_tcp_be_liberal")).isEqualTo(1);
            assertThat(sysctls.read("net.netfilter.nf_conntrack_tcp_timeout_established")).isEqualTo(7200);
            assertThat(sysctls.read("net.netfilter.nf_conntrack_tcp_timeout_close_wait")).isEqualTo(1800);
            assertThat(sysctls.read("net.netfilter.nf_conntrack_udp_timeout")).isEqualTo(33);
            assertThat(sysctls.read("net.netfilter.nf_conntrack_udp_timeout_stream")).isEqualTo(133);
            assertThat(sysctls.apply(config)).as("already set: nothing written").isEmpty();
        }
    }
}
