package dev.railyard.benchmarks;

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

import java.util.concurrent.TimeUnit;

/**
 * One full render of a synthetic cluster ({@link ClusterGenerator}) with a renderer reused across invocations,
 * as the proxy daemon does: its buffers have grown to working size after the first render, so steady-state
 * allocation per op should be close to nothing. Output size is printed by {@link #setUp()} ("# output:" line)
 * so that {@code gc.alloc.rate.norm} can be compared with it. {@link #copyOutput()} is the same-run baseline.
 *
 * <pre>
 * java -cp 'benchmarks/target/benchmarks.jar:benchmarks/target/lib/*' org.openjdk.jmh.Main RenderBenchmark \
 *      -wi 3 -i 5 -f 1 -prof gc
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class RenderBenchmark {

    @Param({"1000", "10000"})
    public int services;

    private ClusterGenerator.Cluster cluster;
    private IptablesRenderer renderer;
    private byte[] rendered;
    private byte[] copy;

    @Setup(Level.Trial)
    public void setUp() {
        cluster = ClusterGenerator.generate(services);
        renderer = new IptablesRenderer(ClusterGenerator.renderConfig());
        LineBuffer out = renderer.render(cluster.state());
        System.out.printf("%n# cluster: %s%n", cluster.describe());
        System.out.printf("# output: services=%d servicePorts=%d endpointEntries=%d lines=%d bytes=%d"
                        + " natChains=%d natRules=%d filterRules=%d%n",
                services, cluster.servicePorts(), cluster.endpointEntries(), out.lines(), out.length(),
                renderer.natChainCount(), renderer.natRuleCount(), renderer.filterRuleCount());
        rendered = out.toByteArray();
        copy = new byte[rendered.length];
    }

    @Benchmark
    public LineBuffer render() {
        return renderer.render(cluster.state());
    }

    /**
     * Baseline measured in the same run: copying the finished output once (a memory-bandwidth floor for
     * producing that many bytes). render / copyOutput is less sensitive to machine load than either figure.
     */
    @Benchmark
    public byte[] copyOutput() {
        System.arraycopy(rendered, 0, copy, 0, rendered.length);
        return copy;
    }
}
