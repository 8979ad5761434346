package dev.railyard.benchmarks;

import dev.railyard.nftables.Transaction;
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
import java.util.concurrent.TimeUnit;

/**
 * A full sync's render in nftables mode ({@link NftablesRenderer#plan} with no changed-services set) of a
 * synthetic cluster ({@link ClusterGenerator}), by a renderer that has committed a full sync before, as the
 * daemon's periodic full syncs do; {@link #planAndScript()} adds writing the transaction as the nft script the
 * nft applier feeds to {@code nft -f}. Target: 250 ms at 10,000 services (about 100,000 endpoints).
 *
 * <pre>
 * java -cp 'benchmarks/target/benchmarks.jar:benchmarks/target/lib/*' org.openjdk.jmh.Main NftablesRenderBenchmark \
 *      -wi 3 -i 5 -f 1 -prof gc
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class NftablesRenderBenchmark {

    @Param({"1000", "10000"})
    public int services;

    private ClusterGenerator.Cluster cluster;
    private NftablesRenderer renderer;

    @Setup(Level.Trial)
    public void setUp() {
        cluster = ClusterGenerator.generate(services);
        renderer = new NftablesRenderer(ClusterGenerator.nftablesRenderConfig());
        NftablesRenderer.Plan plan = renderer.plan(cluster.state(), null, Instant.EPOCH);
        renderer.committed(plan);
        String script = plan.sync().script();
        System.out.printf("%n# cluster: %s%n", cluster.describe());
        System.out.printf("# output: services=%d operations=%d chains=%d rules=%d elements=%d scriptBytes=%d%n",
                services, plan.sync().size(), plan.counts().chainsWritten(), plan.counts().rulesWritten(),
                plan.counts().elementsAdded(), script.length());
    }

    @Benchmark
    public Transaction plan() {
        return renderer.plan(cluster.state(), null, Instant.EPOCH).sync();
    }

    @Benchmark
    public int planAndScript() {
        return renderer.plan(cluster.state(), null, Instant.EPOCH).sync().script().length();
    }
}
