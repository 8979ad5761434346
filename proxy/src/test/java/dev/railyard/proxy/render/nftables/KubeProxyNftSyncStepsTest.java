package dev.railyard.proxy.render.nftables;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * TestSyncProxyRulesRepeated's steps, chained: from each step's expected state, the partial-sync transaction that
 * upstream's comments describe ("add 1 element to cluster-ips and service-ips = 2 operations, add+flush 2 chains ...")
 * leads in the knftables Fake model to the next step's expected state, with upstream's operation count. The
 * transactions are written here from those comments (upstream does not give their text), so this proves that the ten
 * expected texts, the counts and {@link NftFakeTable} agree with each other, and it shows the lead what a partial
 * sync has to send.
 */
class KubeProxyNftSyncStepsTest {
    static final String SVC1 = "service-ULMVA6XW-ns1/svc1/tcp/p80";
    static final String SVC2 = "service-MHHHYRWA-ns2/svc2/tcp/p8080";
    static final String EP2 = "endpoint-7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080";
    static final String SVC3 = "service-4AT6LBPK-ns3/svc3/tcp/p80";
    static final String EP3_1 = "endpoint-2OCDJSZQ-ns3/svc3/tcp/p80__10.0.3.1/80";
    static final String EP3_2 = "endpoint-SWWHDC7X-ns3/svc3/tcp/p80__10.0.3.2/80";
    static final String EP3_3 = "endpoint-TQ2QKHCZ-ns3/svc3/tcp/p80__10.0.3.3/80";
    static final String SVC4 = "service-LAUZTJTB-ns4/svc4/tcp/p80";
    static final String EP4 = "endpoint-WAHRBT2B-ns4/svc4/tcp/p80__10.0.4.1/80";

    /** "VERB TYPE rest" lines with "ip kube-proxy" inserted after the type. */
    static String tx(String... lines) {
        List<String> out = new ArrayList<>();
        for (String line : lines) {
            String[] parts = line.split(" ", 3);
            out.add(parts[0] + " " + parts[1] + " ip kube-proxy " + parts[2]);
        }
        return String.join("\n", out);
    }

    static String[] serviceChain(String chain, String clusterIp, String vmap) {
        return new String[] {"add chain " + chain, "flush chain " + chain,
                "add rule " + chain + " ip daddr " + clusterIp + " ip saddr != 10.0.0.0/8 jump mark-for-masquerade",
                "add rule " + chain + " numgen random mod " + vmap};
    }

    static String[] endpointChain(String chain, String ip, int port) {
        return new String[] {"add chain " + chain, "flush chain " + chain,
                "add rule " + chain + " ip saddr " + ip + " jump mark-for-masquerade",
                "add rule " + chain + " meta l4proto tcp dnat to " + ip + ":" + port};
    }

    static String[] concat(String[]... parts) {
        List<String> all = new ArrayList<>();
        for (String[] part : parts) {
            all.addAll(List.of(part));
        }
        return all.toArray(new String[0]);
    }

    static String step(int n) {
        return NftCompatCase.all().stream().filter(c -> c.name().startsWith(String.format(
                "sync-proxy-rules-repeated-%02d-", n))).findFirst().orElseThrow().name();
    }

    private static NftFakeTable stateOf(int n) {
        NftFakeTable fake = NftFakeTable.empty("ip", "kube-proxy");
        fake.parseDump(NftFakeTable.fromDump(NftCompatCase.named(step(n)).expected()).dump());
        return fake;
    }

    private static void assertState(NftFakeTable fake, int n) {
        NftCompatCase expected = NftCompatCase.named(step(n));
        assertThat(NftTransactionSort.diff(expected.expected(), fake.dump())).as("state after step %d", n).isEmpty();
    }

    private static int expectedOperations(int n) {
        return Integer.parseInt(NftCompatCase.named(step(n)).config().getProperty("expectedOperations"));
    }

    static final String TO_2 = tx(concat(endpointChain(EP3_1, "10.0.3.1", 80),
            serviceChain(SVC3, "172.30.0.43", "1 vmap { 0 : goto " + EP3_1 + " }"),
            new String[] {"add element cluster-ips { 172.30.0.43 }",
                    "add element service-ips { 172.30.0.43 . tcp . 80 : goto " + SVC3 + " }"}));
    static final String TO_3 = tx("delete element cluster-ips { 172.30.0.42 }",
            "delete element service-ips { 172.30.0.42 . tcp . 8080 }", "flush chain " + SVC2, "flush chain " + EP2);
    static final String DELETE_STALE_3 = tx("delete chain " + SVC2, "delete chain " + EP2);
    static final String TO_5 = tx("add element cluster-ips { 172.30.0.44 }",
            "add element no-endpoint-services { 172.30.0.44 . tcp . 80 comment \"ns4/svc4:p80\" : goto reject-chain }");
    static final String TO_6 = tx(concat(new String[] {"delete element no-endpoint-services { 172.30.0.44 . tcp . 80 }"},
            endpointChain(EP4, "10.0.4.1", 80),
            serviceChain(SVC4, "172.30.0.44", "1 vmap { 0 : goto " + EP4 + " }"),
            new String[] {"add element service-ips { 172.30.0.44 . tcp . 80 : goto " + SVC4 + " }"}));
    static final String TO_7 = tx(concat(endpointChain(EP3_2, "10.0.3.2", 80),
            serviceChain(SVC3, "172.30.0.43", "1 vmap { 0 : goto " + EP3_2 + " }"),
            new String[] {"flush chain " + EP3_1}));
    static final String DELETE_STALE_7 = tx("delete chain " + EP3_1);
    static final String TO_8 = tx(concat(endpointChain(EP3_2, "10.0.3.2", 80), endpointChain(EP3_3, "10.0.3.3", 80),
            serviceChain(SVC3, "172.30.0.43", "2 vmap { 0 : goto " + EP3_2 + " , 1 : goto " + EP3_3 + " }")));
    static final String TO_9 = tx("delete element service-ips { 172.30.0.43 . tcp . 80 }",
            "add element no-endpoint-services { 172.30.0.43 . tcp . 80 comment \"ns3/svc3:p80\" : goto reject-chain }",
            "flush chain " + SVC3, "flush chain " + EP3_2, "flush chain " + EP3_3);
    static final String TO_10 = tx(concat(new String[] {"delete element no-endpoint-services { 172.30.0.43 . tcp . 80 }"},
            endpointChain(EP3_2, "10.0.3.2", 80), endpointChain(EP3_3, "10.0.3.3", 80),
            serviceChain(SVC3, "172.30.0.43", "2 vmap { 0 : goto " + EP3_2 + " , 1 : goto " + EP3_3 + " }"),
            new String[] {"add element service-ips { 172.30.0.43 . tcp . 80 : goto " + SVC3 + " }"}));

    @Test
    void eachStepsPartialSyncLeadsToTheNextStepsExpectedStateWithUpstreamsOperationCount() {
        NftFakeTable fake = stateOf(1);
        String[] transactions = {null, TO_2, TO_3, "", TO_5, TO_6, TO_7, TO_8, TO_9, TO_10};
        for (int n = 2; n <= 10; n++) {
            if (n == 4) {
                fake.run(DELETE_STALE_3); // stale chains are deleted in a transaction of their own
            }
            if (n == 8) {
                fake.run(DELETE_STALE_7);
            }
            fake.run(transactions[n - 1]);
            assertState(fake, n);
            assertThat(fake.lastTransactionOperations()).as("operations of step %d", n).isEqualTo(expectedOperations(n));
        }
    }

    @Test
    void theLastTwoAssertionsOfTheTestExpectStepTensStateAgain() {
        NftFakeTable fake = stateOf(10);
        // empty svc3's endpoints, age the stale chains, restore: the chains are deleted first, then recreated
        fake.run(TO_9);
        fake.run(tx("delete chain " + SVC3, "delete chain " + EP3_2, "delete chain " + EP3_3));
        fake.run(TO_10);
        assertState(fake, 10);
        // a sync with no changes: 0 operations, same state
        fake.run("");
        assertState(fake, 10);
        assertThat(fake.lastTransactionOperations()).isZero();
    }

    @Test
    void aWrongTransactionDoesNotReachTheNextState() {
        NftFakeTable fake = stateOf(2);
        fake.run(TO_3.replace("flush chain ip kube-proxy " + EP2, "delete chain ip kube-proxy " + EP2));
        NftCompatCase three = NftCompatCase.named(step(3));
        assertThat(NftTransactionSort.diff(three.expected(), fake.dump())).contains(EP2);
    }

    @Test
    void theStartupCasesLoadedStateIsStepOnesState() {
        // TestSyncProxyRulesStartup loads what the first sync of TestSyncProxyRulesRepeated produces, then syncs a
        // changed cluster (svc1 gets a second endpoint, svc3 is new)
        NftFakeTable initial = NftFakeTable.empty("ip", "kube-proxy");
        initial.parseDump(NftCompatCase.named("sync-proxy-rules-startup").file(NftCompatCase.INITIAL_STATE));
        assertThat(NftTransactionSort.diff(NftCompatCase.named(step(1)).expected(), initial.dump())).isEmpty();
    }
}
