#!/usr/bin/env bash
# Builds and runs the node daemon's bounded runs (root: network namespaces, iptables):
#   1. SyncLatencyRun with iptables-legacy at 10,000 services: event-to-applied latency of single-endpoint changes
#      (render / restore / other), partial-sync bytes against the full sync;
#   2. SyncLatencyRun with iptables-nft at smaller sizes (its --noflush restore is ~quadratic, 10k does not finish);
#   3. DaemonMemoryRun: `railyard proxy --manifests --iptables-backend legacy` in its own JVM with 10,000 services,
#      VmRSS / VmHWM / heap after the first full sync and after changes, once per JVM flag set (the DaemonSet's, and
#      the previous recommendation).
# Everything goes to benchmarks/target/daemon-results/<UTC timestamp>/; docs/performance.md quotes from there.
# Each step is bounded by `timeout`; the runs delete their namespaces themselves (also on failure).
#
#   benchmarks/run-daemon-benchmarks.sh
#   CHANGES=200 NFT_SIZES=1000,1500 benchmarks/run-daemon-benchmarks.sh
#   SKIP_BUILD=1 / SKIP_LEGACY=1 / SKIP_NFT=1 / SKIP_MEMORY=1                 # skip a step
set -euo pipefail
cd "$(dirname "$0")/.."

OUT="$PWD/benchmarks/target/daemon-results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
CHANGES=${CHANGES:-100}
LEGACY_SIZES=${LEGACY_SIZES:-10000}
NFT_SIZES=${NFT_SIZES:-1000,2000}
CAP=${CAP:-120}
MEMORY_SERVICES=${MEMORY_SERVICES:-10000}
MEMORY_CHANGES=${MEMORY_CHANGES:-30}
# ';'-separated JVM flags per run, runs separated by '|': the DaemonSet's (deploy/daemonset.yaml, whose
# MALLOC_MMAP_THRESHOLD_ the first run also gets), then the previous recommendation.
MEMORY_FLAGS=${MEMORY_FLAGS:-"-XX:+UseSerialGC;-Xms32m;-Xmx208m;-XX:MaxNewSize=32m;-XX:MinHeapFreeRatio=20;-XX:MaxHeapFreeRatio=40;-XX:TrimNativeHeapInterval=10000;-XX:TieredStopAtLevel=1;-XX:+ExitOnOutOfMemoryError|-XX:+UseSerialGC;-Xmx384m"}

if [[ $(id -u) -ne 0 ]]; then
    echo "run-daemon-benchmarks.sh needs root (network namespaces, iptables-restore)" >&2
    exit 2
fi
if [[ -z "${SKIP_BUILD:-}" ]]; then
    # Reactor build only: never `install`, which would replace the shared SNAPSHOT artifacts in ~/.m2.
    ./mvnw -B -q -pl benchmarks,cli -am package -DskipTests > "$OUT/build.log" 2>&1
fi
CP="benchmarks/target/benchmarks.jar:benchmarks/target/lib/*"
LOG=(-Dorg.slf4j.simpleLogger.defaultLogLevel=warn)

{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "nproc: $(nproc), memory: $(free -m | awk '/^Mem:/ {print $2}') MB"
    echo "kernel: $(uname -r)"
    echo "java: $(java -version 2>&1 | head -n 1)"
    echo "iptables: $(iptables --version 2>&1); legacy: $(iptables-legacy --version 2>&1)"
    echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/machine.txt"

if [[ -z "${SKIP_LEGACY:-}" ]]; then
    timeout 1500 java -Xms1g -Xmx1g "${LOG[@]}" -cp "$CP" dev.railyard.benchmarks.daemon.SyncLatencyRun \
        "$LEGACY_SIZES" "$CHANGES" legacy "$CAP" | tee "$OUT/sync-latency-legacy.txt" || true
    echo "load after legacy: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"
fi
if [[ -z "${SKIP_NFT:-}" ]]; then
    timeout 1500 java -Xms1g -Xmx1g "${LOG[@]}" -cp "$CP" dev.railyard.benchmarks.daemon.SyncLatencyRun \
        "$NFT_SIZES" "$CHANGES" nft "$CAP" | tee "$OUT/sync-latency-nft.txt" || true
    echo "load after nft: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"
fi
if [[ -z "${SKIP_MEMORY:-}" ]]; then
    IFS='|' read -r -a FLAG_SETS <<< "$MEMORY_FLAGS"
    i=0
    for flags in "${FLAG_SETS[@]}"; do
        i=$((i + 1))
        mkdir -p "$OUT/memory-$i"
        daemon_env=()
        if [[ $i -eq 1 ]]; then
            daemon_env=(env MALLOC_MMAP_THRESHOLD_=131072) # the DaemonSet's, inherited through ip netns exec
        fi
        timeout 900 "${daemon_env[@]}" java "${LOG[@]}" -cp "$CP" dev.railyard.benchmarks.daemon.DaemonMemoryRun \
            cli/target/railyard.jar "$OUT/memory-$i" "$MEMORY_SERVICES" "$MEMORY_CHANGES" 300 "$flags" \
            | tee "$OUT/memory-$i.txt" || true
        rm -rf "$OUT/memory-$i/manifests"
    done
    echo "load after memory: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"
fi
echo "results in $OUT"
