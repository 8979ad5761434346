#!/usr/bin/env bash
# Userspace proxy load run (issue 5): the same backends reached directly, through HAProxy (mode tcp) and through
# the proxy under test (default: ./railyard proxy --proxy-mode userspace, a separate process); wrk req/s and
# latency distribution, iperf3 bulk throughput, CPU seconds per request, idle connections' heap. Results go to
# benchmarks/target/userspace-results/<UTC timestamp>/ (summary.txt, results.json, *.csv, latency.png, logs).
# About 6 minutes with the defaults (3 rounds x 3 paths x 15 s of wrk, 3 x 3 x 6 s of iperf3, 2 x ~10k idle).
#
#   benchmarks/run-userspace-benchmarks.sh                          # Railyard as the proxy under test
#   benchmarks/run-userspace-benchmarks.sh --standin haproxy        # validate the harness with a stand-in
#   benchmarks/run-userspace-benchmarks.sh --under-test-cmd 'RAILYARD_JAVA_OPTS=-Xmx256m ./railyard proxy ...'
#   benchmarks/run-userspace-benchmarks.sh --under-test-name railyard-proxier \
#       --under-test-cmd "java -cp 'benchmarks/target/benchmarks.jar:benchmarks/target/lib/*' \
#           dev.railyard.benchmarks.userspace.UserspaceProxyLauncher {manifests} {threads}"   # the proxier without the CLI
#   benchmarks/run-userspace-benchmarks.sh --help                   # every option
#   benchmarks/run-userspace-benchmarks.sh --path capture           # the realistic path (issue 14, CaptureLoadRun):
#       pod namespace behind a bridge, ClusterIP captured by railyard's REDIRECT rules, HAProxy behind the same
#       kind of capture, wrk -c32 from the node namespace, 6 rounds; --path capture --help lists its options
#   benchmarks/run-userspace-benchmarks.sh --path capture --profile-seconds 5   # plus syscalls per request
#   SKIP_BUILD=1 benchmarks/run-userspace-benchmarks.sh ...         # reuse the last build
#
# Needs haproxy, wrk and iperf3 (Debian: apt-get install -y haproxy wrk iperf3; this script installs them when
# run as root and they are missing) and jcmd (openjdk-17-jdk-headless). It only sends traffic to 127.0.0.0/8;
# every phase is bounded and every process it starts is stopped at the end, also on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

# --path loopback (ProxyLoadRun, the default) or capture (CaptureLoadRun), as the first option
MAIN=dev.railyard.benchmarks.userspace.ProxyLoadRun
PREFIX=""
if [[ "${1:-}" == "--path" ]]; then
    case "${2:-}" in
        loopback) ;;
        capture) MAIN=dev.railyard.benchmarks.userspace.CaptureLoadRun; PREFIX="capture-" ;;
        *) echo "--path: loopback or capture" >&2; exit 2 ;;
    esac
    shift 2
fi

missing=()
tools="haproxy:haproxy wrk:wrk iperf3:iperf3"
if [[ -n "$PREFIX" ]]; then
    tools="$tools curl:curl strace:strace perf:linux-perf"   # readiness checks and --profile-seconds
fi
for pair in $tools; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
if (( ${#missing[@]} )); then
    if [[ $(id -u) -eq 0 ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "missing: ${missing[*]} (apt-get install -y ${missing[*]})" >&2
        exit 2
    fi
fi

if [[ -z "${SKIP_BUILD:-}" ]]; then
    # cli too: the default proxy under test is ./railyard, which would otherwise build itself at start;
    # target/lib afresh so that no jar of an older dependency version stays on the class path
    rm -rf benchmarks/target/lib
    ./mvnw -B -q -pl cli,benchmarks -am package -DskipTests
    touch cli/target/railyard.jar
fi

# 10,000 idle connections need ~20,000 descriptors in the proxy: use the hard limit (raising the hard limit
# itself needs root with CAP_SYS_RESOURCE; the run holds as many as fit and extrapolates otherwise).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [[ $(id -u) -eq 0 ]]; then
    ulimit -Hn 65536 2>/dev/null && ulimit -n 65536 2>/dev/null || true
fi

OUT="benchmarks/target/userspace-results/$PREFIX$(date -u +%Y%m%dT%H%M%SZ)"
for arg in "$@"; do
    case "$arg" in --help|-h) OUT="";; esac
done
if [[ -n "$OUT" ]]; then
    mkdir -p "$OUT"
    set -- --out "$OUT" "$@"
fi
run() {
    java -Djava.awt.headless=true -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
        -cp 'benchmarks/target/benchmarks.jar:benchmarks/target/lib/*' \
        "$MAIN" "$@"
}
if [[ -z "$OUT" ]]; then
    run "$@"
else
    status=0
    run "$@" 2>&1 | tee "$OUT/run.txt" || status=${PIPESTATUS[0]}
    exit "$status"
fi
