package dev.railyard.proxy.inspect.nftables;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.inspect.EndpointShare;
import dev.railyard.proxy.inspect.Packet;
import dev.railyard.proxy.inspect.RulesetDiff;
import dev.railyard.proxy.inspect.Trace;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.render.nftables.KubeProxyNftTracer;
import dev.railyard.proxy.render.nftables.Layout;
import dev.railyard.proxy.render.nftables.NftCompatCase;
import dev.railyard.proxy.render.nftables.NftablesRenderer;
import dev.railyard.proxy.source.ManifestLoader;
import dev.railyard.testkit.CommandResult;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.RequiresPrivileges;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

/**
 * What nft 1.0.6 prints is what the evaluator reads: every kube-proxy nftables case, rendered by Railyard in
 * both layouts, loaded into a network namespace with {@code nft -f} and read back with {@code nft list ruleset}
 * (nft's own spelling: {@code meta mark set meta mark | 0x00004000}, named priorities, {@code dnat ip to numgen
 * ... map @m}, single-prefix sets flattened, multi-line element lists with comments). Every rule of the listing is
 * read without an unmodelled part, the listing diffs equal to the script it was loaded from, and every flow of
 * the case traces the same through both.
 */
@RequiresPrivileges(commands = {"nft", "ip"})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NftListingKernelTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private NetworkNamespace ns;

    @BeforeAll
    void createNamespace() {
        ns = NetworkNamespace.create();
    }

    @AfterAll
    void closeNamespace() {
        if (ns != null) {
            ns.close();
        }
    }

    @TestFactory
    List<DynamicTest> theListingOfEveryRenderReadsAndMeansWhatItsScriptMeans() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Layout layout : Layout.values()) {
            for (NftCompatCase testCase : NftCompatCase.all()) {
                tests.add(DynamicTest.dynamicTest(testCase.name() + " " + layout, () -> check(testCase, layout)));
            }
        }
        return tests;
    }

    private void check(NftCompatCase testCase, Layout layout) throws Exception {
        IpFamily family = IpFamily.of(testCase.ipFamily());
        String script = NftablesRenderer.script(NftCompatRules.config(testCase, family), layout,
                ManifestLoader.load(List.of(testCase.manifests())).state(family, testCase.nodeName())).script();
        nft(null, "flush", "ruleset");
        nft(script.getBytes(StandardCharsets.UTF_8), "-f", "-");
        String listing = nft(null, "list", "ruleset").stdout();

        NftablesServiceRuleset listed = NftablesServiceRuleset.fromText("nft list ruleset", "nft list ruleset",
                listing, NftCompatRules.localAddresses(testCase));
        NftablesServiceRuleset scripted = NftCompatRules.render(testCase, layout);

        List<String> unread = new ArrayList<>();
        for (NftablesRuleset.Table table : listed.ruleset().tables()) {
            for (NftablesRuleset.Chain chain : table.chains().values()) {
                for (NftablesRule rule : chain.rules()) {
                    if (rule.unsupported() != null) {
                        unread.add(chain.name() + ": " + rule.text() + "  # " + rule.unsupported().why());
                    }
                }
            }
        }
        assertThat(unread).as("rules of the listing not read%n%s", listing).isEmpty();
        assertThat(listed.ruleset().ruleCount()).isEqualTo(scripted.ruleset().ruleCount());

        RulesetDiff.Report report = RulesetDiff.compare(listed, scripted, new RulesetDiff.Settings(family,
                testCase.clusterCidr().orElse(null)));
        assertThat(report.differing()).as("listing vs script%n%s", listing).isEmpty();
        assertThat(report.frontends()).allSatisfy(f -> assertThat(f.inA() && f.inB()).as(f.toString()).isTrue());
        assertThat(listed.frontends()).isEqualTo(scripted.frontends());

        List<KubeProxyNftTracer.Flow> flows = new ArrayList<>();
        if (testCase.has(NftCompatCase.FLOWS)) {
            flows.addAll(testCase.flows());
        }
        if (testCase.has(NftCompatCase.DERIVED_FLOWS)) {
            flows.addAll(testCase.derivedFlows());
        }
        for (KubeProxyNftTracer.Flow flow : flows) {
            Packet packet = Packet.of(flow.sourceIp(), flow.destIp(), flow.destPort(),
                    Protocol.parse(flow.protocol().toUpperCase(Locale.ROOT)),
                    NftCompatRules.origin(testCase, listed.localAddresses(), flow.sourceIp()));
            Trace fromListing = listed.trace(packet);
            Trace fromScript = scripted.trace(packet);
            assertThat(fromListing.unevaluated()).as(flow.name()).isEmpty();
            assertThat(fromListing.verdicts()).as(flow.name()).isEqualTo(fromScript.verdicts());
            assertThat(fromListing.endpoints().stream().map(EndpointShare::toString).toList()).as(flow.name())
                    .isEqualTo(fromScript.endpoints().stream().map(EndpointShare::toString).toList());
            assertThat(fromListing.affinity()).as(flow.name()).isEqualTo(fromScript.affinity());
        }
    }

    private CommandResult nft(byte[] stdin, String... args) {
        List<String> command = new ArrayList<>(List.of("nft"));
        command.addAll(List.of(args));
        CommandResult result = ns.exec(command, TIMEOUT, stdin);
        assertThat(result.succeeded()).as("%s: %s", result.commandLine(), result.stderr()).isTrue();
        return result;
    }
}
