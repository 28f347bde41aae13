#!/usr/bin/env bash
# Felix's programming path at scale (defaults: 1,000 local endpoints, 500 policies, 200 one-policy
# updates): calculation, render and one NFTProgrammer batch from nothing, against `nft -f` of the
# same ruleset text, in a throwaway namespace; then one changed policy at a time from the
# calculator's update to the kernel's commit (median, p99), value-only (a port: set elements where
# the rule's ports are a list, the rule replaced where it is the one port), structural (a rule added or removed), selector (a policy's selector changes so it
# applies to an overlapping set of endpoints: interface-set elements, and a place opened or closed
# when it reaches its first or leaves its last) and create (a new policy on 10 local endpoints,
# deleted by the next update: its places open and close); then pods (a local pod arriving, leaving
# with the next update: not a policy change, timed the same way); a restarted programmer's
# reconcile; peak RSS.
# FELIX_BENCH_BIN=<driver> reuses a driver built before; FELIX_BENCH_PROBE=1 on the driver times
# single kinds of kernel change instead (element, rule, chain); FELIX_BENCH_TRACE=1 prints each
# update's phases (value, structural, selector, create, pod); FELIX_BENCH_ECHO_LIMIT=N sets the programmer's echo limit (0: no echoes) and
# FELIX_BENCH_FULL_ECHO=1 has the full program echoed too; FELIX_BENCH_KINDS=<kinds, comma-separated> runs only those
# kinds of update (e.g. pod, to `perf record` the driver on them); FELIX_BENCH_IPV6=0 renders as with IPv6Support false (the setting of
# the IPv4 manifests in deploy/: no IPv6 rules or sets). FELIX_BENCH_KEEP_TEXT=<file> keeps the
# ruleset text the driver wrote (the `nft -f` side), e.g. to time the kernel's validation on it.
# Usage: bench/felix.sh [ENDPOINTS] [POLICIES] [UPDATES]. Needs root. Built with swiftc -O (Core's Kernel and Model as module Core; Policy's Calc, Render, NFTables with the driver).
set -euo pipefail
cd "$(dirname "$0")/.."
EPS="${1:-1000}"; POLS="${2:-500}"; UPDATES="${3:-200}"
NS="bench-felix-$$"
WORK="$(mktemp -d)"
cleanup() {
    ip netns del "$NS" 2>/dev/null || true
    if [ -n "${FELIX_BENCH_KEEP_TEXT:-}" ] && [ -f "$WORK/ruleset.nft" ]; then cp "$WORK/ruleset.nft" "$FELIX_BENCH_KEEP_TEXT"; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

if [ -n "${FELIX_BENCH_BIN:-}" ]; then cp "$FELIX_BENCH_BIN" "$WORK/felix-bench"; else   # reuse a driver built before
MODEL=$(ls Sources/Core/Model/*.swift | grep -v -e Conversion -e SelectorKubernetes)
# The kernel wrappers felix uses; LinkedLibraries (the version command's list) needs the HTTP client.
KERNEL=$(ls Sources/Core/Kernel/*.swift | grep -v LinkedLibraries)
swiftc -O -swift-version 6 -parse-as-library -module-name Core -emit-module -emit-module-path "$WORK/Core.swiftmodule" \
    -emit-library -static -I Sources/CSystem -Xcc -I/usr/include/libnl3 \
    $KERNEL $MODEL Sources/Core/Kubernetes/Resources/IntOrString.swift -o "$WORK/libCore.a"
swiftc -O -swift-version 6 -parse-as-library -module-name FelixBench -I "$WORK" -L "$WORK" -lCore \
    -I Sources/CSystem -Xcc -I/usr/include/libnl3 \
    Sources/Policy/Calc/*.swift Sources/Policy/Render/*.swift Sources/Policy/NFTables/*.swift bench/felix/*.swift \
    -o "$WORK/felix-bench" -lnl-route-3 -lnl-3 -lnftnl -lmnl
fi

ip netns add "$NS"
ours=$(/usr/bin/time -f "bench_peak_rss_kb=%M" "$WORK/felix-bench" "$NS" "$WORK/ruleset.nft" "$EPS" "$POLS" "$UPDATES" 2>&1)
eval "$(echo "$ours" | tr ' ' '\n' | grep = | sed 's/^/our_/')"
# FELIX_BENCH_TRACE=1: the driver's per-update lines, to stderr.
if [ -n "${FELIX_BENCH_TRACE:-}" ]; then echo "$ours" | grep -E '^(value|structural|selector|create|pod) ' >&2 || true; fi

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
ip netns exec "$NS" nft delete table inet calico
t=$(date +%s%N); ip netns exec "$NS" nft -f "$WORK/ruleset.nft"; nft_full=$(ms "$t")
nft_rules=$(ip netns exec "$NS" nft list table inet calico | grep -cE '^\s+(ct|meta|ip|ip6|iifname|oifname|tcp|udp|jump|goto|drop|accept|return|counter|log|th|l4proto)' || true)
# The kernel's own floor for one small transaction in this table (validation walks every jump).
chain=$(grep -m1 -o 'chain cali-pi-[^ ]*' "$WORK/ruleset.nft" | cut -d' ' -f2)
t=$(date +%s%N); ip netns exec "$NS" nft add rule inet calico "$chain" meta mark set meta mark or 0x10000 return; nft_one=$(ms "$t")
t=$(date +%s%N); ip netns exec "$NS" nft --version >/dev/null; nft_noop=$(ms "$t")
nft_peak=$( { /usr/bin/time -f "%M" ip netns exec "$NS" nft -f "$WORK/ruleset.nft" >/dev/null; } 2>&1 | tail -1 )

echo "felix bench: endpoints=$our_endpoints policies=$our_policies rules=$our_rules sets=$our_sets chains=$our_chains $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) CPUs kernel $(uname -r)"
echo "ours: calc ${our_calc_ms} ms, render ${our_render_ms} ms, program from nothing ${our_full_ms} ms (one batch)"
echo "ours: value-only update, a policy's port (calc + render + diff + commit) median ${our_update_median_ms} ms, p99 ${our_update_p99_ms} ms, max ${our_update_max_ms} ms over ${our_update_timed} that reached the kernel (${our_update_noops} of $UPDATES changed a policy in force on no local endpoint: nothing to commit, not timed); of which calc ${our_update_calc_median_ms} ms, render ${our_update_render_median_ms} ms; rule operations ${our_value_update_rule_ops} (rules whose one port is written in them are replaced; port lists change as set elements)"
echo "ours: structural update, a policy gains or loses a rule: median ${our_structural_median_ms} ms, p99 ${our_structural_p99_ms} ms over ${our_structural_timed} that reached the kernel (${our_structural_noops} of $UPDATES had nothing to commit; ${our_structural_rule_ops} rule operations)"
echo "ours: selector update, a policy's selector moves to an overlapping set of local endpoints: median ${our_selector_median_ms} ms, p99 ${our_selector_p99_ms} ms over ${our_selector_timed} that reached the kernel (${our_selector_noops} of $UPDATES had nothing to commit; ${our_selector_rule_ops} rule operations); of which render ${our_selector_render_median_ms} ms, commit ${our_selector_commit_median_ms} ms (medians)"
echo "ours: create update, a new policy on 10 local endpoints, then deleted again (alternating): median ${our_create_median_ms} ms, p99 ${our_create_p99_ms} ms over ${our_create_timed} (${our_create_rule_ops} rule operations); of which render ${our_create_render_median_ms} ms (median)"
echo "ours: pod update, a local pod arrives, then leaves again (alternating): median ${our_pod_median_ms} ms, p99 ${our_pod_p99_ms} ms over ${our_pod_timed} (${our_pod_rule_ops} rule operations); of which render ${our_pod_render_median_ms} ms, commit ${our_pod_commit_median_ms} ms (medians)"
echo "ours: full renders of the dispatch chains during the updates: value ${our_value_full_dispatch}, structural ${our_structural_full_dispatch}, selector ${our_selector_full_dispatch}, create ${our_create_full_dispatch}, pod ${our_pod_full_dispatch} (0 = set elements and places in place only)"
echo "ours: structural update by phase (medians): calc ${our_structural_calc_median_ms} ms, render ${our_structural_render_median_ms} ms, read back ${our_structural_read_median_ms} ms, diff ${our_structural_diff_median_ms} ms, encode ${our_structural_encode_median_ms} ms, commit (send + kernel + answers) ${our_structural_commit_median_ms} ms, state update ${our_structural_update_median_ms} ms; chains read back ${our_structural_chains_read}, added rules echoed ${our_structural_rules_echoed}"
echo "ours: full program by phase: diff ${our_full_diff_ms} ms, encode ${our_full_encode_ms} ms, commit ${our_full_commit_ms} ms (rules echoed ${our_full_rules_echoed})"
echo "ours: restarted programmer reconcile ${our_restart_reconcile_ms} ms, ${our_restart_plan_messages} messages (0 = nothing flushed or changed)"
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }   # one decimal: the aim is 38 MiB
echo "ours: peak RSS $(mib "$our_bench_peak_rss_kb") MiB (whole process: inputs, calculator, rulesets, programmer); VmHWM after full programming $(mib "$our_peak_rss_after_full_kb") MiB, after the updates $(mib "$our_peak_rss_after_updates_kb") MiB"
echo "nft: one added rule ${nft_one} ms (starting nft alone: ${nft_noop} ms)"
echo "nft -f: full ${nft_full} ms (~${nft_rules} rule lines; includes ip netns exec), nft peak RSS $((nft_peak / 1024)) MiB"
awk -v a="$our_full_ms" -v b="$nft_full" 'BEGIN { printf "ratio ours/nft full programming: %.2f\n", a / b }'
