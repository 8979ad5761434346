package dev.railyard.benchmarks;

import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.IptablesRenderer;
import dev.railyard.proxy.render.LineBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The render of a partial sync as the daemon does it: after an applied render (its chain set passed back), one
 * service has one endpoint replaced — the state alternates between the cluster and the cluster with that pod
 * replaced, every other service port and endpoint list being the same objects, as the change tracker hands them
 * over. Target: at most 5 ms at 10,000 services.
 *
 * <pre>
 * java -cp 'benchmarks/target/benchmarks.jar:benchmarks/target/lib/*' org.openjdk.jmh.Main PartialRenderBenchmark \
 *      -wi 3 -i 5 -f 1 -prof gc
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class PartialRenderBenchmark {

    @Param({"1000", "10000"})
    public int services;

    private IptablesRenderer renderer;
    private ProxyState[] states;
    private Set<String> changed;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        ClusterGenerator.Replacement replacement = ClusterGenerator.withOneEndpointReplaced(
                ClusterGenerator.generate(services).state());
        ProxyState original = replacement.before();
        states = new ProxyState[] {original, replacement.after()};
        changed = Set.of(replacement.serviceKey());
        renderer = new IptablesRenderer(ClusterGenerator.renderConfig());
        renderer.render(original, List.of());
        LineBuffer out = renderer.renderPartial(states[1], changed, renderer.activeNatChains());
        System.out.printf("%n# partial output: %d bytes, %d nat rules written, %d skipped%n", out.length(),
                renderer.natRuleCount(), renderer.skippedNatRuleCount());
        next = 0;
    }

    @Benchmark
    public LineBuffer renderPartial() {
        LineBuffer out = renderer.renderPartial(states[next], changed, renderer.activeNatChains());
        next ^= 1;
        return out;
    }
}
