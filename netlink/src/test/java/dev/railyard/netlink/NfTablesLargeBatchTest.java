package dev.railyard.netlink;

import static dev.railyard.netlink.Family.IP;
import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.RequiresPrivileges;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Batches far larger than a default socket buffer (212 KiB) and element lists far longer than one netlink
 * attribute (64 KiB) still go out as one transaction; and why they must: the kernel drops a batch whose
 * BATCH_END arrives in a later datagram even though it acked every operation.
 */
@RequiresPrivileges(commands = {"nft", "ip"})
class NfTablesLargeBatchTest {

    private static final int SERVICES = 6_000;

    @Test
    void batchLargerThanTheSocketBufferAndLongElementListsCommitAsOneTransaction() {
        try (NetworkNamespace ns = NetworkNamespace.create(); NfTables nft = NfTables.open(ns.name())) {
            long defaultSendBuffer = nft.socket().bufferSizes()[0];
            NfTablesBatch batch = new NfTablesBatch().addTable(IP, "t", null)
                    .addSet(IP, "t", SetSpec.map("service-ips").key(DataType.IPV4_ADDR, DataType.INET_PROTO, DataType.INET_SERVICE)
                            .data(DataType.VERDICT).build());
            List<SetElement> elements = new ArrayList<>();
            for (int i = 0; i < SERVICES; i++) {
                String chain = "service-" + i + "-ns/svc/tcp/p80";
                batch.addChain(IP, "t", chain, null);
                batch.addRule(IP, "t", chain, Rule.builder().match(Field.META_L4PROTO, Values.inetProto(Values.TCP))
                        .dnat(IP, new byte[] {10, (byte) 180, (byte) (i >> 8), (byte) i}, 80).build());
                elements.add(SetElement.of(new byte[] {(byte) 172, 30, (byte) (i >> 8), (byte) i}, Values.inetProto(Values.TCP),
                        Values.inetService(80)).mapsTo(Verdict.goTo(chain)).withComment("ns/svc" + i + ":p80"));
            }
            batch.addElements(IP, "t", "service-ips", elements);
            assertThat(batch.messageCount()).as("one element call split into several messages").isGreaterThan(batch.size());

            CommitResult result = nft.commit(batch);

            assertThat(result.committed()).as(result.describe()).isTrue();
            assertThat(result.bytesSent()).isGreaterThan((int) defaultSendBuffer);
            assertThat(nft.listChains(IP, "t")).hasSize(SERVICES);
            assertThat(nft.listElements(IP, "t", "service-ips")).containsExactlyInAnyOrderElementsOf(elements);
            String listed = ns.execChecked("nft", "list", "map", "ip", "t", "service-ips").stdout();
            assertThat(listed).contains("172.30.23.111 . tcp . 80 comment \"ns/svc5999:p80\" : goto service-5999-ns/svc/tcp/p80");
        }
    }

    @Test
    void anErrorInALaterPieceOfALongElementListNamesTheCall() {
        try (NetworkNamespace ns = NetworkNamespace.create(); NfTables nft = NfTables.open(ns.name())) {
            assertThat(nft.commit(new NfTablesBatch().addTable(IP, "t", null)
                    .addChain(IP, "t", "c", null)
                    .addSet(IP, "t", SetSpec.map("m").key(DataType.IPV4_ADDR).data(DataType.VERDICT).build())).committed()).isTrue();
            List<SetElement> elements = new ArrayList<>();
            for (int i = 0; i < 5_000; i++) {
                elements.add(SetElement.of(new byte[] {10, 0, (byte) (i >> 8), (byte) i})
                        .mapsTo(Verdict.goTo(i == 4_999 ? "missing" : "c")));
            }
            CommitResult result = nft.commit(new NfTablesBatch().addChain(IP, "t", "d", null).addElements(IP, "t", "m", elements));

            assertThat(result.committed()).isFalse();
            assertThat(result.errors()).singleElement().satisfies(error -> {
                assertThat(error.index()).isEqualTo(1);
                assertThat(error.operation()).contains("add element ip t m").contains("(elements ").contains("..4999)");
                assertThat(error.errnoName()).isEqualTo("ENOENT");
            });
            assertThat(nft.listElements(IP, "t", "m")).isEmpty();
            assertThat(nft.listChains(IP, "t")).containsExactly("c");
        }
    }

    @Test
    void largeInlineSetAndBatchReuseAndRollbackOfARuleThatCannotBeEncoded() {
        try (NetworkNamespace ns = NetworkNamespace.create(); NfTables nft = NfTables.open(ns.name())) {
            List<Prefix> ranges = new ArrayList<>();
            for (int i = 0; i < 4_000; i++) {
                ranges.add(new Prefix(new byte[] {100, (byte) (i >> 7), (byte) ((i & 127) * 2), 0}, 24)); // not adjacent
            }
            NfTablesBatch batch = new NfTablesBatch().addTable(IP, "t", null).addChain(IP, "t", "c", null)
                    .addRule(IP, "t", "c", Rule.builder().inPrefixes(Field.IP_SADDR, true, ranges).drop().build());
            int sizeBefore = batch.size();
            int messagesBefore = batch.messageCount();
            assertThat(messagesBefore).as("the inline set's 8,001 elements need several messages").isGreaterThan(sizeBefore + 2);
            Rule unencodable = Rule.builder().expr(new Expr.Cmp(1, Expr.CmpOp.EQ, new byte[70_000])).build();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> batch.addRule(IP, "t", "c", unencodable))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThat(batch.size()).isEqualTo(sizeBefore);
            assertThat(batch.messageCount()).isEqualTo(messagesBefore);

            assertThat(nft.commit(batch).committed()).isTrue();
            String listed = ns.execChecked("nft", "list", "chain", "ip", "t", "c").stdout();
            assertThat(listed.contains("ip saddr != { 100.0.0.0/24, 100.0.2.0/24,")).isTrue();
            assertThat(listed.contains("100.31.60.0/24, 100.31.62.0/24 } drop")).isTrue();
            assertThat(listed.split("/24", -1)).hasSize(4_001);

            batch.addChain(IP, "t", "d", null);
            CommitResult again = nft.commit(batch);
            assertThat(again.committed()).as(again.describe()).isTrue();
            assertThat(nft.listChains(IP, "t")).containsExactlyInAnyOrder("c", "d");
        }
    }

    /** Documents the kernel behaviour that makes one datagram per batch mandatory. */
    @Test
    void kernelDropsABatchWhoseEndArrivesInALaterDatagramDespiteAckingItsOperations() {
        try (NetworkNamespace ns = NetworkNamespace.create();
             NetlinkSocket socket = NetlinkSocket.open(NetlinkSocket.NETLINK_NETFILTER, ns.name())) {
            ByteBuffer all = new NfTablesBatch().addTable(IP, "split", null).addChain(IP, "split", "c", null)
                    .prepare(100, true);
            int endLength = MessageWriter.NLMSG_HDRLEN + 4;
            ByteBuffer withoutEnd = all.duplicate().limit(all.limit() - endLength);
            ByteBuffer end = all.duplicate().position(all.limit() - endLength);

            socket.send(withoutEnd);
            List<int[]> firstAcks = acks(socket);
            socket.send(end);
            List<int[]> endAcks = acks(socket);

            assertThat(firstAcks).containsExactly(new int[] {101, 0}, new int[] {102, 0});
            assertThat(endAcks).containsExactly(new int[] {103, 22}); // EINVAL: an END without a BEGIN
            assertThat(ns.execChecked("nft", "list", "ruleset").stdout()).doesNotContain("split");
        }
    }

    /** {sequence, errno} of every ack queued on the socket (all are queued when sendto returns). */
    private static List<int[]> acks(NetlinkSocket socket) {
        List<int[]> acks = new ArrayList<>();
        ByteBuffer reply;
        while ((reply = socket.receive(false)) != null) {
            for (int pos = 0; pos + MessageWriter.NLMSG_HDRLEN <= reply.limit(); ) {
                int length = reply.getInt(pos);
                if (length < MessageWriter.NLMSG_HDRLEN) {
                    break;
                }
                if ((reply.getShort(pos + 4) & 0xffff) == NfConst.NLMSG_ERROR) {
                    acks.add(new int[] {reply.getInt(pos + 8), -reply.getInt(pos + 16)});
                }
                pos += (length + 3) & ~3;
            }
        }
        return acks;
    }
}
