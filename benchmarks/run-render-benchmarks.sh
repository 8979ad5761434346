#!/usr/bin/env bash
# Builds and runs the render benchmarks: the JMH RenderBenchmark (1,000 and 10,000 services, with -prof gc)
# and the bounded RenderVsRestore run (render next to iptables-restore in fresh network namespaces; needs root).
# Everything goes to benchmarks/target/render-results/<UTC timestamp>/; docs/performance.md quotes from there.
# Takes about 9 minutes on a 2-core machine (most of it iptables-restore).
#
#   benchmarks/run-render-benchmarks.sh                 # offline Maven build, both runs
#   MVN_OFFLINE= benchmarks/run-render-benchmarks.sh    # let Maven download what is missing
#   JMH_ARGS="-wi 5 -i 10 -f 3" benchmarks/run-render-benchmarks.sh   # longer JMH run
#   SKIP_BUILD=1 / SKIP_JMH=1 / SKIP_RESTORE=1          # skip a step
set -euo pipefail
cd "$(dirname "$0")/.."

OUT="benchmarks/target/render-results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
MVN=(./mvnw -B -q ${MVN_OFFLINE--o})
JMH_ARGS=${JMH_ARGS:-"-wi 3 -i 5 -f 1 -w 2s -r 2s"}
JVM_OPTS=${JVM_OPTS:-"-Xms1g -Xmx1g"}

# --- build -------------------------------------------------------------------------------------------------
# The jar and its dependencies, as every build of the benchmarks module leaves them (this script's or any other).
CP="benchmarks/target/benchmarks.jar:benchmarks/target/lib/*"
if [[ -z "${SKIP_BUILD:-}" ]]; then
    "${MVN[@]}" -pl benchmarks -am package -DskipTests > "$OUT/build.log" 2>&1
elif [[ ! -f benchmarks/target/benchmarks.jar ]]; then
    echo "SKIP_BUILD=1 but benchmarks/target/benchmarks.jar is missing: build first" \
        "(./mvnw -B -q -pl cli,benchmarks -am package -DskipTests)" >&2
    exit 1
fi

# --- machine -----------------------------------------------------------------------------------------------
{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "nproc: $(nproc)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "kernel: $(uname -r)"
    echo "java: $(java -version 2>&1 | head -n 2 | tr '\n' ' ')"
    echo "iptables: $(iptables --version 2>&1)"
    echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/machine.txt"

# --- bounded render vs iptables-restore run (root) ---------------------------------------------------------
if [[ -z "${SKIP_RESTORE:-}" ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "not root: skipping RenderVsRestore (it needs network namespaces and iptables-restore)" >&2
    else
        # shellcheck disable=SC2086
        java $JVM_OPTS -cp "$CP" dev.railyard.benchmarks.RenderVsRestore 1000,10000 60 3 120 \
            | tee "$OUT/render-vs-restore.txt"
        echo "load after RenderVsRestore: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"
    fi
fi

# --- JMH ---------------------------------------------------------------------------------------------------
if [[ -z "${SKIP_JMH:-}" ]]; then
    # shellcheck disable=SC2086
    java -cp "$CP" org.openjdk.jmh.Main 'dev\.railyard\.benchmarks\.RenderBenchmark' $JMH_ARGS -prof gc \
        -rf json -rff "$OUT/jmh.json" | tee "$OUT/jmh.txt"
    echo "load after JMH: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"
    echo
    echo "== output sizes (from @Setup)"
    grep '^# output:' "$OUT/jmh.txt" | sort -u
    echo "== JMH summary"
    sed -n '/^Benchmark /,$p' "$OUT/jmh.txt"
fi
echo "results in $OUT"
