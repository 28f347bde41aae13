#!/usr/bin/env bash
# BGP convergence benchmark (root; needs bird2): one of our speakers feeds N IPv4 prefixes to
# BIRD and then to another of our speakers, each in its own network namespace, and prints the
# times, the ratio and the RSS growth. Usage: bench/bgp-convergence.sh [N ...] (default 100000 1000000).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
config=${BGP_BENCH_CONFIG:-debug}
swift build -c "$config" --build-tests >/dev/null
bundle=$(swift build -c "$config" --show-bin-path)/calico-nodePackageTests.xctest
for n in "${@:-100000 1000000}"; do
    for count in $n; do
        BGP_BENCH_PREFIXES=$count "$bundle" IntegrationTests.BGPInteropBenchmarkTests 2>&1 | grep -E "BGP convergence|error"
    done
done
