package dev.railyard.proxy.source;

import com.google.gson.JsonObject;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.IptablesRenderer;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.render.RuleShapes;
import dev.railyard.proxy.source.MalformedObjects.Format;
import dev.railyard.proxy.source.MalformedObjects.Mutation;
import dev.railyard.proxy.source.MalformedObjects.Template;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Any manifest, however malformed, is either rendered or skipped with a named error, never an exception, and
 * nothing a broken object holds reaches the rules. Objects are valid Services, EndpointSlices and Endpoints
 * broken at random by {@link MalformedObjects}, written as YAML (block or flow) or a JSON List, next to valid
 * objects that must come out exactly as they do alone; and valid files whose text is cut and spliced at random.
 */
class MalformedManifestProperties {
    private static final Set<String> TOP_LEVEL_FIELDS = Set.of("apiVersion", "kind", "metadata", "spec", "status",
            "addressType", "ports", "endpoints", "subsets");

    /** One broken object: which valid object it was and what was done to it. */
    record Broken(Template template, int number, List<Mutation> mutations) {
        JsonObject object() {
            return MalformedObjects.mutate(template.make("m", number), mutations);
        }
    }

    /** A file: whole valid clusters, broken objects inserted among them at {@code positions}. */
    record Case(int validClusters, List<Broken> broken, List<Integer> positions, Format format, boolean masqueradeAll) {
        List<JsonObject> valid() {
            List<JsonObject> objects = new ArrayList<>();
            for (int n = 0; n < validClusters; n++) {
                objects.addAll(MalformedObjects.validCluster("g", n));
            }
            return objects;
        }

        List<JsonObject> all() {
            List<JsonObject> objects = valid();
            for (int i = 0; i < broken.size(); i++) {
                objects.add(Math.min(positions.get(i), objects.size()), broken.get(i).object());
            }
            return objects;
        }
    }

    @Provide
    Arbitrary<Case> files() {
        Arbitrary<Broken> broken = Combinators.combine(Arbitraries.of(Template.class),
                        Arbitraries.integers().between(0, 199), MalformedObjects.mutations())
                .as(Broken::new);
        return Combinators.combine(Arbitraries.integers().between(1, 2), broken.list().ofMinSize(1).ofMaxSize(4),
                        Arbitraries.integers().between(0, 12).list().ofSize(4), Arbitraries.of(Format.class),
                        Arbitraries.of(true, false))
                .as(Case::new);
    }

    @Property(tries = 200)
    void everyBrokenObjectIsConvertedOrReportedByFieldAndTheValidOnesStillRenderAsAlone(@ForAll("files") Case file)
            throws Exception {
        ClusterSnapshot all = load(MalformedObjects.file(file.all(), file.format()));
        ClusterSnapshot validAlone = load(MalformedObjects.file(file.valid(), file.format()));
        assertThat(validAlone.problems()).isEmpty();

        for (Problem problem : all.problems()) {
            assertNamesAField(problem);
        }
        for (Broken broken : file.broken()) {
            ClusterSnapshot alone = load(MalformedObjects.file(List.of(broken.object()), file.format()));
            assertThat(alone.problems()).as("one object, at most one problem").hasSizeLessThanOrEqualTo(1);
            for (Problem problem : alone.problems()) {
                assertThat(all.problems()).as("reported with the others as alone")
                        .anySatisfy(other -> assertThat(List.of(other.object(), other.field(), other.message()))
                                .isEqualTo(List.of(problem.object(), problem.field(), problem.message())));
            }
        }
        for (IpFamily family : IpFamily.values()) {
            assertThat(entriesOfValidServices(all.state(family, "node-a")))
                    .as("the valid objects' %s service ports and endpoints", family)
                    .isEqualTo(entriesOfValidServices(validAlone.state(family, "node-a")));
            assertRulesHaveTheirShape(all.state(family, "node-a"), file.masqueradeAll());
        }
    }

    /** A text edit: at {@code at} (modulo the length), delete, duplicate or insert. */
    record Edit(int at, int length, String insert) {
    }

    @Provide
    Arbitrary<List<Edit>> edits() {
        Arbitrary<String> inserts = Arbitraries.oneOf(
                Arbitraries.of("", ":", "- ", "-", "[", "]", "{", "}", ",", "\"", "'", "&a ", "*a", "!!int ", "!x ",
                        "? ", "|", ">", "#", "%", "@", "`", "\t", "\n", "\n---\n", "\n  ", "~", "null", "0x", "1e9"),
                MalformedObjects.oddStrings().filter(s -> s.length() < 200),
                MalformedObjects.nearlyValidStrings());
        return Combinators.combine(Arbitraries.integers().between(0, 1_000_000), Arbitraries.integers().between(0, 40),
                inserts).as(Edit::new).list().ofMinSize(1).ofMaxSize(6);
    }

    @Property(tries = 200)
    void aFileCutAndSplicedAtRandomFailsWithItsLineOrLoadsWithoutException(@ForAll("edits") List<Edit> edits,
                                                                          @ForAll Format format) {
        List<JsonObject> objects = new ArrayList<>(MalformedObjects.validCluster("g", 0));
        objects.addAll(MalformedObjects.validCluster("g", 1));
        StringBuilder text = new StringBuilder(MalformedObjects.file(objects, format));
        for (Edit edit : edits) {
            int at = Math.floorMod(edit.at(), text.length() + 1);
            int end = Math.min(text.length(), at + edit.length());
            if (edit.insert().isEmpty()) {
                text.delete(at, end); // a cut
            } else if (edit.length() % 3 == 0) {
                text.insert(at, text.substring(at, end)); // a repeated stretch
            } else {
                text.insert(at, edit.insert());
            }
        }

        ClusterSnapshot snapshot;
        try {
            snapshot = ManifestLoader.parse("edited.yaml", text.toString());
        } catch (ManifestSyntaxException e) {
            assertThat(e.getMessage()).startsWith("edited.yaml");
            return;
        }
        for (Problem problem : snapshot.problems()) {
            assertThat(problem.isUnexpected()).as("a reader bug: %s", problem).isFalse();
            assertThat(problem.toString()).doesNotContain("\n").doesNotContain("\r");
        }
        for (IpFamily family : IpFamily.values()) {
            ProxyState state;
            try {
                state = snapshot.state(family, "node-a");
            } catch (RuntimeException e) {
                throw new AssertionError("state of a loaded snapshot failed", e);
            }
            assertRulesHaveTheirShape(state, false);
        }
    }

    private static ClusterSnapshot load(String text) {
        try {
            return ManifestLoader.parse("cluster.yaml", text);
        } catch (ManifestSyntaxException e) {
            return fail("a file written by a YAML or JSON emitter must parse", e);
        }
    }

    private static void assertNamesAField(Problem problem) {
        assertThat(problem.isUnexpected()).as("a reader bug: %s", problem).isFalse();
        assertThat(problem.field()).as("the field of %s", problem).isNotEmpty();
        String first = problem.field().split("[.\\[]", 2)[0];
        assertThat(TOP_LEVEL_FIELDS).as("the field of %s", problem).contains(first);
        assertThat(problem.object()).as("the object of %s", problem).matches("(Service|EndpointSlice|Endpoints|object|"
                + "[^ ]+) .+");
        assertThat(problem.toString()).as("one line").doesNotContain("\n").doesNotContain("\r");
        assertThat(problem.location()).startsWith("cluster.yaml:");
    }

    /** The valid objects' service ports, each with its endpoints. */
    private static List<List<Object>> entriesOfValidServices(ProxyState state) {
        return state.entries().stream().filter(e -> e.service().name().namespace().equals("ns")
                && e.service().name().name().startsWith("g-"))
                .map(e -> List.<Object>of(e.service(), e.endpoints())).toList();
    }

    private static void assertRulesHaveTheirShape(ProxyState state, boolean masqueradeAll) {
        IpFamily family = state.family();
        RenderConfig config = RenderConfig.builder(family).nodeName("node-a")
                .nodeIps(List.of(family == IpFamily.V4 ? "192.168.0.10" : "fd00::10"))
                .clusterCidrs(List.of(family == IpFamily.V4 ? "10.244.0.0/16" : "fd00:10:244::/56"))
                .masqueradeAll(masqueradeAll).nfacctCounters(!masqueradeAll).build();
        String rules = new IptablesRenderer(config).render(state).toString();
        assertThat(RuleShapes.violations(rules)).as("rule shapes").isEmpty();
        assertThat(rules.toLowerCase(Locale.ROOT)).doesNotContain(MalformedObjects.MARKER.toLowerCase(Locale.ROOT));
    }
}
