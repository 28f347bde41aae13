#!/usr/bin/env bash
# Programming CHAINS x RULES rules and a SET-element interval set (defaults 1000 x 10, 10000) into
# table inet calico through our NFTProgrammer (one netlink batch) against `nft -f` of the same
# ruleset rendered as text, in a throwaway namespace. Also: one-rule updates (apply = diff +
# batch; the added rule's handle comes from the commit's echo) and a restarted programmer's no-op reconcile.
# Usage: bench/nft.sh [CHAINS] [RULES_PER_CHAIN] [SET_ELEMENTS]. Needs root. Builds with swiftc -O
# directly (Core/Kernel + IPNet as module Core, then the NFTables sources with the driver).
set -euo pipefail
cd "$(dirname "$0")/.."
CHAINS="${1:-1000}"; PER="${2:-10}"; ELEMS="${3:-10000}"
NS="bench-nft-$$"
WORK="$(mktemp -d)"
cleanup() { ip netns del "$NS" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

# The kernel wrappers; LinkedLibraries (the version command's list) needs the HTTP client.
KERNEL=$(ls Sources/Core/Kernel/*.swift | grep -v LinkedLibraries)
swiftc -O -swift-version 6 -parse-as-library -module-name Core -emit-module -emit-module-path "$WORK/Core.swiftmodule" \
    -emit-library -static -I Sources/CSystem -Xcc -I/usr/include/libnl3 \
    $KERNEL Sources/Core/Model/IPNet.swift -o "$WORK/libCore.a"
# The NFTables sources and the driver form one module; their `import Core` finds the one above.
swiftc -O -swift-version 6 -parse-as-library -module-name NFTBench -I "$WORK" -L "$WORK" -lCore \
    -I Sources/CSystem -Xcc -I/usr/include/libnl3 \
    Sources/Policy/NFTables/*.swift bench/nft/main.swift -o "$WORK/nft-bench" \
    -lnl-route-3 -lnl-3 -lnftnl -lmnl

ip netns add "$NS"
ours=$("$WORK/nft-bench" "$NS" "$WORK/ruleset.nft" "$CHAINS" "$PER" "$ELEMS")
eval "$(echo "$ours" | tr ' ' '\n' | sed 's/^/our_/')"

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
ip netns exec "$NS" nft delete table inet calico
t=$(date +%s%N); ip netns exec "$NS" nft -f "$WORK/ruleset.nft"; nft_full=$(ms "$t")
nft_rules=$(ip netns exec "$NS" nft -a list table inet calico | grep -c 'comment "')
t=$(date +%s%N); ip netns exec "$NS" true; exec_overhead=$(ms "$t")

echo "chains=$CHAINS rules=$our_rules set=$ELEMS $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) CPUs kernel $(uname -r)"
echo "ours: full ${our_full_ms} ms (render ${our_render_ms} ms not included, diff ${our_diff_ms} ms not included), read-back ${our_read_ms} ms"
echo "ours: one-rule update median ${our_update_median_ms} ms, max ${our_update_max_ms} ms (20 updates; medians: diff ${our_update_diff_median_ms} ms, read back ${our_update_read_median_ms} ms, commit ${our_update_commit_median_ms} ms); restarted no-op reconcile ${our_restart_noop_ms} ms"
echo "nft -f: full ${nft_full} ms (${nft_rules} rules; includes ~${exec_overhead} ms of ip netns exec)"
awk -v a="$our_full_ms" -v b="$nft_full" 'BEGIN { printf "ratio ours/nft full: %.2f\n", a / b }'
