#!/usr/bin/env bash
# Builds and runs issue 11's proof: network programming latency of `railyard proxy` (root: network namespaces,
# nftables, iptables), every path in the same run, then the daemon's memory as `./railyard` launches it.
#   1. ProgrammingLatencyRun: per cluster size (1,000 / 10,000 / 50,000 services, 10 endpoints each) and path
#      (nftables flat layout through netlink = the default, flat through `nft -f`, kube-proxy's layout through
#      netlink at 1,000 only, iptables-legacy, iptables-nft): full sync, a second full sync, and per replaced pod
#      change -> applied and change -> first connection answered by the new pod (real traffic from the node
#      namespace to the cluster IP), p50 / p99 / max over rounds; a summary against the issue's targets and
#      against the netlink path, a CSV of every measurement (results.csv), one per path and size (summary.csv),
#      and a log-log plot of time against cluster size. Every (path, size) has deadlines: CAP seconds for a full
#      sync, CHANGE_CAP per change, BUDGET for all its changes; a path that missed one is "not done within ..."
#      and is not tried at the larger sizes;
#   2. DaemonMemoryRun: `./railyard proxy --proxy-mode nftables` (default layout and applier, the launcher's own
#      JVM flags) in a namespace with 10,000 services, VmRSS / VmHWM after the first full sync and after changes.
# Everything goes to benchmarks/target/programming-results/<UTC timestamp>/; the plot is copied to
# docs/figures/programming-latency.png. Each step is bounded by `timeout`; the runs delete their namespaces
# themselves (also on failure). Takes about an hour on the shared 2-core machine.
# The load average is printed before, between the steps and after.
#
#   benchmarks/run-programming-benchmarks.sh
#   SIZES=1000 CHANGES=15 WARMUP=3 benchmarks/run-programming-benchmarks.sh          # a quick look
#   PATHS=nft-flat-netlink SIZES=50000 CHANGES=30 benchmarks/run-programming-benchmarks.sh
#   SKIP_BUILD=1 / SKIP_LATENCY=1 / SKIP_MEMORY=1 / NO_FIGURE=1                     # skip a step
set -euo pipefail
cd "$(dirname "$0")/.."

OUT="$PWD/benchmarks/target/programming-results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
SIZES=${SIZES:-1000,10000,50000}
# PATH[@MAX SIZE][:CAP SECONDS]; a path over its cap at one size is not tried at larger ones.
PATHS=${PATHS:-nft-flat-netlink,nft-flat-nft,nft-kube-proxy-netlink@1000,iptables-legacy,iptables-nft}
CHANGES=${CHANGES:-30,30,21}
WARMUP=${WARMUP:-5}
ROUNDS=${ROUNDS:-3}
CAP=${CAP:-300}
CHANGE_CAP=${CHANGE_CAP:-30}
BUDGET=${BUDGET:-300}
AGAIN=${AGAIN:-true}
MEMORY_SERVICES=${MEMORY_SERVICES:-10000}
MEMORY_CHANGES=${MEMORY_CHANGES:-30}
MEMORY_CAP=${MEMORY_CAP:-600}   # seconds for the daemon's first full sync (minutes on a loaded machine)

if [[ $(id -u) -ne 0 ]]; then
    echo "run-programming-benchmarks.sh needs root (network namespaces, nftables, iptables)" >&2
    exit 2
fi
if [[ -z "${SKIP_BUILD:-}" ]]; then
    # Reactor build only: never `install`, which would replace the shared SNAPSHOT artifacts in ~/.m2.
    ./mvnw -B -q -o -pl benchmarks,cli -am package -DskipTests > "$OUT/build.log" 2>&1
    # As ./railyard marks its own builds: the jar is current, so the launcher does not rebuild inside the namespace.
    touch cli/target/railyard.jar
fi
CP="benchmarks/target/benchmarks.jar:benchmarks/target/lib/*"
LOG=(-Dorg.slf4j.simpleLogger.defaultLogLevel=warn)

{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "nproc: $(nproc), memory: $(free -m | awk '/^Mem:/ {print $2}') MB"
    echo "kernel: $(uname -r)"
    echo "java: $(java -version 2>&1 | head -n 1)"
    echo "nft: $(nft --version 2>&1); iptables: $(iptables-legacy --version 2>&1), $(iptables-nft --version 2>&1)"
    echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo ?)"
    echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/machine.txt"

if [[ -z "${SKIP_LATENCY:-}" ]]; then
    timeout 10800 java -Xms2g -Xmx8g -Djava.net.preferIPv4Stack=true -Djava.awt.headless=true "${LOG[@]}" \
        -cp "$CP" dev.railyard.benchmarks.daemon.ProgrammingLatencyRun sizes="$SIZES" paths="$PATHS" \
        changes="$CHANGES" warmup="$WARMUP" rounds="$ROUNDS" cap="$CAP" changeCap="$CHANGE_CAP" budget="$BUDGET" \
        again="$AGAIN" out="$OUT" \
        | tee "$OUT/programming-latency.txt" || true
    echo "load after latency: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"
    if [[ -z "${NO_FIGURE:-}" && -f "$OUT/programming-latency.png" ]]; then
        mkdir -p docs/figures
        cp "$OUT/programming-latency.png" docs/figures/programming-latency.png
    fi
fi
if [[ -z "${SKIP_MEMORY:-}" ]]; then
    mkdir -p "$OUT/memory"
    timeout $((MEMORY_CAP + 600)) java "${LOG[@]}" -cp "$CP" dev.railyard.benchmarks.daemon.DaemonMemoryRun \
        ./railyard "$OUT/memory" "$MEMORY_SERVICES" "$MEMORY_CHANGES" "$MEMORY_CAP" "" nftables \
        | tee "$OUT/memory.txt" || true
    rm -rf "$OUT/memory/manifests"
    echo "load after memory: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"
    if [[ -f "$OUT/summary.md" ]]; then
        {
            echo
            echo "Memory, \`./railyard proxy --proxy-mode nftables\` at $MEMORY_SERVICES services (DaemonMemoryRun):"
            echo
            echo '```'
            grep -E "VmRSS|issue 11 target|first full sync" "$OUT/memory.txt" || echo "no figures (see memory.txt)"
            echo '```'
        } >> "$OUT/summary.md"
    fi
fi
echo "results in $OUT"
