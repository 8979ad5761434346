package dev.railyard.proxy.inspect.nftables;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.nftables.NftApplier;
import dev.railyard.nftables.Ruleset;
import dev.railyard.nftables.Transaction;
import dev.railyard.proxy.inspect.EndpointShare;
import dev.railyard.proxy.inspect.LocalAddresses;
import dev.railyard.proxy.inspect.Origin;
import dev.railyard.proxy.inspect.Packet;
import dev.railyard.proxy.inspect.RulesetDiff;
import dev.railyard.proxy.inspect.Trace;
import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.render.nftables.Layout;
import dev.railyard.proxy.render.nftables.NftablesRenderer;
import dev.railyard.proxy.source.ClusterSnapshot;
import dev.railyard.proxy.source.ManifestLoader;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The flat layout's shared endpoint maps: where a dispatch chain's block of keys sits depends on the syncs before
 * (EndpointKeyBlocks), what it holds does not. The example cluster is synced by the renderer as the daemon does,
 * once fresh and once after an earlier sync of only some services, into nftables' in-memory ruleset; trace and
 * diff must read both dumps alike, and alike kube-proxy's layout.
 */
class FlatLayoutEndpointKeysTest {
    private static final RenderConfig CONFIG = RenderConfig.builder(IpFamily.V4).nodeName("node-a")
            .nodeIps(List.of("192.168.10.11")).clusterCidrs(List.of("10.244.0.0/16"))
            .serviceCidrs(List.of("10.96.0.0/12")).nodePortAddresses(List.of("primary")).build();
    private static final LocalAddresses NODE_A = LocalAddresses.of(List.of("192.168.10.11"));
    private static final RulesetDiff.Settings SETTINGS = new RulesetDiff.Settings(IpFamily.V4, "10.244.0.0/16");
    private static final Pattern DISPATCH = Pattern.compile(
            "add rule ip kube-proxy (\\S+) .*numgen random mod ([0-9]+) offset ([0-9]+) map @endpoints-");

    @Test
    void everyEndpointOfAFlatRulesetIsTracedWithItsProbability() throws Exception {
        NftablesServiceRuleset flat = rules("fresh", sync(List.of(example())));

        Trace dns = flat.trace(Packet.of("10.244.1.5", "10.96.0.10", 53, Protocol.UDP, Origin.POD));
        Trace web = flat.trace(Packet.of("198.51.100.9", "192.168.10.11", 30080, Protocol.TCP, Origin.EXTERNAL));
        Trace agent = flat.trace(Packet.of("10.244.1.5", "10.102.0.40", 9100, Protocol.TCP, Origin.POD));

        assertThat(dns.endpoints()).containsExactly(new EndpointShare("10.244.0.5:53", 0.5, false),
                new EndpointShare("10.244.1.7:53", 0.5, false));
        assertThat(web.endpoints()).as("externalTrafficPolicy Local: node-a's own endpoint, from its local block")
                .containsExactly(new EndpointShare("10.244.0.21:8080", 1.0, false));
        assertThat(agent.endpoints()).as("internalTrafficPolicy Local: node-a's own endpoint only")
                .containsExactly(new EndpointShare("10.244.0.40:9100", 1.0, false));
        assertThat(List.of(dns, web, agent)).allSatisfy(t -> assertThat(t.unevaluated()).isEmpty());
    }

    @Test
    void flatRulesetsThatOnlyAllocateKeysDifferentlyMeanTheSame() throws Exception {
        ProxyState cluster = example();
        // First only shop's and telco's services: they take the low keys, the others get theirs afterwards.
        ProxyState some = only(cluster, name -> name.namespace().equals("shop") || name.namespace().equals("telco"));
        String fresh = sync(List.of(cluster));
        String later = sync(List.of(some, cluster));

        Map<String, String> freshBlocks = blocks(fresh);
        Map<String, String> laterBlocks = blocks(later);
        assertThat(laterBlocks.keySet()).isEqualTo(freshBlocks.keySet());
        assertThat(laterBlocks).as("the keys are allocated differently").isNotEqualTo(freshBlocks);

        RulesetDiff.Report report = RulesetDiff.compare(rules("fresh", fresh), rules("later", later), SETTINGS);
        assertThat(report.differing()).isEmpty();
        assertThat(report.frontends()).hasSize(13);

        NftablesServiceRuleset kubeProxyLayout = NftablesServiceRuleset.fromRender("kube-proxy layout", CONFIG,
                Layout.KUBE_PROXY, cluster).withLocalAddresses("kube-proxy layout", NODE_A);
        assertThat(RulesetDiff.compare(kubeProxyLayout, rules("later", later), SETTINGS).differing()).isEmpty();
    }

    @Test
    void anElementInAnotherServicesBlockIsADifference() throws Exception {
        String fresh = sync(List.of(example()));
        // shop/web's cluster chain reads two keys; point the second at kube-dns's first key's endpoint instead.
        Matcher web = Pattern.compile("add rule ip kube-proxy service-KHN6ECMT-shop/web/tcp/http .*offset ([0-9]+) "
                + "map @(endpoints-tcp-[0-9]+)").matcher(fresh);
        assertThat(web.find()).isTrue();
        long second = Long.parseLong(web.group(1)) + 1;
        String map = web.group(2);
        String edited = fresh.replace("add element ip kube-proxy " + map + " { " + second + " : 10.244.1.22 . 8080 }",
                "add element ip kube-proxy " + map + " { " + second + " : 10.244.0.5 . 53 }");
        assertThat(edited).isNotEqualTo(fresh);

        RulesetDiff.Report report = RulesetDiff.compare(rules("fresh", fresh), rules("edited", edited), SETTINGS);

        assertThat(report.differing()).isNotEmpty().extracting(f -> f.frontend().name())
                .containsOnly("shop/web:http");
    }

    // ---------------------------------------------------------------------------------------------------------

    private static ProxyState example() throws Exception {
        ClusterSnapshot snapshot = ManifestLoader.load(List.of(Path.of("..", "examples", "cluster.yaml")));
        assertThat(snapshot.problems()).isEmpty();
        return snapshot.state(IpFamily.V4, "node-a");
    }

    private static ProxyState only(ProxyState state, Predicate<ServicePortName> keep) {
        List<ServicePort> services = new ArrayList<>();
        Map<ServicePortName, List<Endpoint>> endpoints = new HashMap<>();
        for (ProxyState.Entry entry : state.entries()) {
            if (keep.test(entry.service().name())) {
                services.add(entry.service());
                endpoints.put(entry.service().name(), entry.endpoints());
            }
        }
        return ProxyState.of(state.family(), services, endpoints);
    }

    /** The kernel's table after each state was synced in turn (full syncs, as the daemon's first and periodic). */
    private static String sync(List<ProxyState> states) throws Exception {
        NftablesRenderer renderer = new NftablesRenderer(CONFIG, Layout.FLAT, NftApplier.TableObjects.none());
        Ruleset kernel = new Ruleset();
        long second = 0;
        for (ProxyState state : states) {
            NftablesRenderer.Plan plan = renderer.plan(state, null, Instant.EPOCH.plusSeconds(second += 10));
            for (Transaction tx : plan.transactions()) {
                kernel.apply(tx);
            }
            renderer.committed(plan);
        }
        return kernel.dump();
    }

    /** Each dispatch chain's modulus and offset. */
    private static Map<String, String> blocks(String dump) {
        Map<String, String> blocks = new HashMap<>();
        Matcher m = DISPATCH.matcher(dump);
        while (m.find()) {
            blocks.put(m.group(1), m.group(2) + "@" + m.group(3));
        }
        assertThat(new TreeSet<>(blocks.keySet())).as("dispatch chains").hasSizeGreaterThan(5);
        return blocks;
    }

    private static NftablesServiceRuleset rules(String name, String dump) throws Exception {
        return NftablesServiceRuleset.fromText(name, name, dump, NODE_A);
    }
}
