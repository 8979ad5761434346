package dev.railyard.proxy.apply;

import dev.railyard.proxy.model.IpFamily;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which program each backend runs: names only, no kernel needed. */
class IptablesBackendTest {

    @Test
    void autoRunsTheNodesDefaultPrograms() {
        assertThat(IptablesBinaries.iptables(IpFamily.V4, IptablesBackend.AUTO)).isEqualTo("iptables");
        assertThat(IptablesBinaries.restore(IpFamily.V4, IptablesBackend.AUTO)).isEqualTo("iptables-restore");
        assertThat(IptablesBinaries.save(IpFamily.V6, IptablesBackend.AUTO)).isEqualTo("ip6tables-save");
    }

    @Test
    void legacyAndNftNameTheirPrograms() {
        assertThat(IptablesBinaries.iptables(IpFamily.V4, IptablesBackend.LEGACY)).isEqualTo("iptables-legacy");
        assertThat(IptablesBinaries.restore(IpFamily.V6, IptablesBackend.LEGACY))
                .isEqualTo("ip6tables-legacy-restore");
        assertThat(IptablesBinaries.save(IpFamily.V4, IptablesBackend.LEGACY)).isEqualTo("iptables-legacy-save");
        assertThat(IptablesBinaries.iptables(IpFamily.V6, IptablesBackend.NFT)).isEqualTo("ip6tables-nft");
        assertThat(IptablesBinaries.restore(IpFamily.V4, IptablesBackend.NFT)).isEqualTo("iptables-nft-restore");
        assertThat(IptablesBinaries.save(IpFamily.V6, IptablesBackend.NFT)).isEqualTo("ip6tables-nft-save");
    }

    @Test
    void restoreCommandUsesTheBackend() {
        assertThat(IptablesRestore.of(IpFamily.V4, IptablesBackend.LEGACY).command(false))
                .containsExactly("iptables-legacy-restore", "-w", "5", "--noflush", "--counters");
        assertThat(IptablesRestore.of(IpFamily.V4, IptablesBackend.NFT).withCommandPrefix(
                java.util.List.of("ip", "netns", "exec", "ns1")).command(false))
                .containsExactly("ip", "netns", "exec", "ns1", "iptables-nft-restore", "-w", "5", "--noflush",
                        "--counters");
        assertThat(IptablesRestore.of(IpFamily.V6).backend()).isEqualTo(IptablesBackend.AUTO);
    }

    @Test
    void flagValuesParse() {
        assertThat(IptablesBackend.fromFlag("legacy")).isEqualTo(IptablesBackend.LEGACY);
        assertThat(IptablesBackend.fromFlag(" NFT ")).isEqualTo(IptablesBackend.NFT);
        assertThat(IptablesBackend.AUTO.flagValue()).isEqualTo("auto");
        assertThatThrownBy(() -> IptablesBackend.fromFlag("xtables"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("auto, legacy or nft");
    }
}
