package dev.railyard.netlink;

import static dev.railyard.netlink.Family.IP;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.RequiresPrivileges;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Sockets opened in a named namespace act there only; listing reads back what a batch wrote. */
@RequiresPrivileges(commands = {"nft", "ip"})
class NfTablesNamespaceTest {

    @Test
    void socketActsInItsNamespaceOnlyAndLeavesTheCallerWhereItWas() throws Exception {
        Path threadNamespace = Path.of("/proc/thread-self/ns/net");
        Path before = Files.readSymbolicLink(threadNamespace);
        try (NetworkNamespace a = NetworkNamespace.create(); NetworkNamespace b = NetworkNamespace.create();
             NfTables inA = NfTables.open(a.name())) {
            assertThat(inA.commit(new NfTablesBatch().addTable(IP, "only-in-a", null)).committed()).isTrue();

            assertThat(a.execChecked("nft", "list", "tables").stdout()).contains("table ip only-in-a");
            assertThat(b.execChecked("nft", "list", "tables").stdout()).doesNotContain("only-in-a");
            assertThat(Files.readSymbolicLink(threadNamespace)).isEqualTo(before);
            try (NfTables inB = NfTables.open(b.name())) {
                assertThat(inB.listTables(IP)).doesNotContain("only-in-a");
            }
        }
    }

    @Test
    void missingNamespaceIsAClearError() {
        assertThatThrownBy(() -> NfTables.open("ry-does-not-exist"))
                .isInstanceOf(NetlinkException.class)
                .hasMessageContaining("/run/netns/ry-does-not-exist")
                .hasMessageContaining("ENOENT");
        assertThatThrownBy(() -> NfTables.open("../etc")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void listingReadsBackTablesChainsSetsAndElements() {
        try (NetworkNamespace ns = NetworkNamespace.create(); NfTables nft = NfTables.open(ns.name())) {
            int generation = nft.generation();
            SetElement withComment = SetElement.of(Values.inetProto(Values.TCP), Values.inetService(3001))
                    .withComment("ns2/svc2:p80").mapsTo(Verdict.goTo("c2"));
            SetElement plain = SetElement.of(Values.inetProto(Values.UDP), Values.inetService(53)).mapsTo(Verdict.DROP);
            CommitResult result = nft.commit(new NfTablesBatch().addTable(IP, "t", null)
                    .addChain(IP, "t", "c1", null).addChain(IP, "t", "c2", null)
                    .addSet(IP, "t", SetSpec.map("m").key(DataType.INET_PROTO, DataType.INET_SERVICE).data(DataType.VERDICT).build())
                    .addSet(IP, "t", SetSpec.map("backends").keyTypeof(TypeOf.numgenRandom(1))
                            .dataTypeof(TypeOf.concat(TypeOf.field(Field.IP_DADDR), TypeOf.field(Field.TH_DPORT))).build())
                    .addElements(IP, "t", "m", List.of(withComment, plain))
                    .addElements(IP, "t", "backends", List.of(SetElement.of(Values.u32Host(0))
                            .mapsTo(Values.ipv4("10.180.0.1"), Values.inetService(80))))
                    .addRule(IP, "t", "c1", Rule.builder().numgenRandomVerdictMap(List.of(Verdict.ACCEPT)).build()));
            assertThat(result.committed()).as(result.describe()).isTrue();

            assertThat(nft.generation()).isNotEqualTo(generation);
            assertThat(nft.listTables(IP)).containsExactly("t");
            assertThat(nft.listChains(IP, "t")).containsExactlyInAnyOrder("c1", "c2");
            assertThat(nft.listSets(IP, "t")).containsExactlyInAnyOrder("m", "backends");
            assertThat(nft.listElements(IP, "t", "m")).containsExactlyInAnyOrder(withComment, plain);
            assertThat(nft.listElements(IP, "t", "backends")).containsExactly(SetElement.of(Values.u32Host(0))
                    .mapsTo(Values.concat(Values.ipv4("10.180.0.1"), Values.inetService(80))));
            assertThatThrownBy(() -> nft.listElements(IP, "t", "nope")).isInstanceOf(NetlinkException.class)
                    .hasMessageContaining("ENOENT");
        }
    }
}
