#!/usr/bin/env bash
# Reflector list/watch throughput against calico-devcluster apiserver, with kubectl as the
# reference. Usage: bench/reflector.sh [PODS]   (default 10000)
# Builds the test bundle and the dev API server, then runs the ReflectorBenchmark test with
# BENCH_PODS set; prints the BENCH lines (events/s, ratios, peak RSS of the test process).
# CONFIG=release builds with optimisation (a separate .build/release tree, slower to build).
set -euo pipefail
cd "$(dirname "$0")/.."
PODS="${1:-10000}"
CONFIG="${CONFIG:-debug}"
command -v kubectl >/dev/null || { echo "kubectl not found: it is the reference; install it" >&2; exit 1; }
FLAGS=(-c "$CONFIG")
[ "$CONFIG" = release ] && FLAGS+=(-Xswiftc -enable-testing)
swift build "${FLAGS[@]}" --product calico-devcluster
swift build "${FLAGS[@]}" --build-tests
export CALICO_DEVCLUSTER_BIN="$PWD/.build/$CONFIG/calico-devcluster"
out=$(BENCH_PODS="$PODS" swift test "${FLAGS[@]}" --skip-build --filter ReflectorBenchmark 2>&1) || {
    echo "$out" | tail -40 >&2
    echo "benchmark failed" >&2
    exit 1
}
echo "config=$CONFIG $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) CPUs"
echo "$out" | grep '^BENCH '
