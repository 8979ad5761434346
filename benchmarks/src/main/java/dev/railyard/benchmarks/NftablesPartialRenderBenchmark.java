package dev.railyard.benchmarks;

import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.nftables.NftablesRenderer;
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

import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A partial sync's render in nftables mode as the daemon does it: after a committed full sync, one service has
 * one endpoint replaced, back and forth ({@link ClusterGenerator#withOneEndpointReplaced}); each op plans the
 * partial transaction and commits it, so the next starts from it. Target: 5 ms at 10,000 services.
 *
 * <pre>
 * java -cp 'benchmarks/target/benchmarks.jar:benchmarks/target/lib/*' org.openjdk.jmh.Main \
 *      NftablesPartialRenderBenchmark -wi 3 -i 5 -f 1 -prof gc
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class NftablesPartialRenderBenchmark {

    @Param({"1000", "10000"})
    public int services;

    private NftablesRenderer renderer;
    private ProxyState[] states;
    private Set<String> changed;
    private Instant now = Instant.EPOCH;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        ClusterGenerator.Replacement replacement = ClusterGenerator.withOneEndpointReplaced(
                ClusterGenerator.generate(services).state());
        states = new ProxyState[] {replacement.before(), replacement.after()};
        changed = Set.of(replacement.serviceKey());
        renderer = new NftablesRenderer(ClusterGenerator.nftablesRenderConfig());
        renderer.committed(renderer.plan(states[0], null, now));
        NftablesRenderer.Plan plan = renderer.plan(states[1], changed, now);
        System.out.printf("%n# partial output: %d operations, %d rules, %d elements added, %d deleted%n",
                plan.sync().size(), plan.counts().rulesWritten(), plan.counts().elementsAdded(),
                plan.counts().elementsDeleted());
        next = 0;
    }

    @Benchmark
    public int planPartial() {
        now = now.plusSeconds(10);
        NftablesRenderer.Plan plan = renderer.plan(states[next], changed, now);
        renderer.staleDeletionApplied(plan);
        renderer.committed(plan);
        next ^= 1;
        return plan.sync().size();
    }
}
