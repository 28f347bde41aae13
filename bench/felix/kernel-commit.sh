#!/usr/bin/env bash
# The kernel's cost of one nf_tables commit against table size (see docs/benchmarks.md, Felix,
# "Kernel commit cost"). Needs root, gcc, libnftnl-dev, libmnl-dev, nft.
#   bench/felix/kernel-commit.sh synthetic
#       tables of K leaf chains reached through one verdict map, R rules each, and/or S named
#       sets: one verdict rule's commit (validation) and one new set's (name walks) per shape.
#   bench/felix/kernel-commit.sh variants <ruleset.nft> [rounds]
#       the bench's ruleset text (FELIX_BENCH_KEEP_TEXT=<file> bash bench/felix.sh) as rendered
#       and with its leaves changed, in interleaved rounds: as-is, leaves without their drop
#       rule, without comments, leaves empty, leaves unreferenced (dispatch vmap rules removed).
#   bench/felix/kernel-commit.sh endpoint-chains <ruleset.nft> [rounds]
#       the current layout's text with a chain per endpoint and direction added
#       (endpoint-chain-variants.py says which), interleaved with the text as rendered.
#   bench/felix/kernel-commit.sh probe-perf <driver> <probe label> [rounds] [cold MiB]
#       perf record -g of the bench driver's probe (FELIX_BENCH_PROBE=<label>, see KernelProbe.swift;
#       <driver> built as bench/felix.sh builds it), then its kernel samples from the first probe
#       on, per round, by nf_tables handler and what inside it (validation, set-name walks, the
#       chain blob copy): where one kind of transaction spends the kernel's time. Needs perf.
set -euo pipefail
cd "$(dirname "$0")"
WORK="$(mktemp -d)"
NS="fx-kc-$$"
trap 'ip netns del "$NS" 2>/dev/null || true; rm -rf "$WORK"' EXIT

# perf script output -> ms per round by nf_tables handler (:inner part), samples of the probes only.
perf_by_handler() {
    awk -v rounds="$1" '
    function flush(   i, h, hs, n, sub_, cat, ks) {
        if (nf == 0) return
        if (!started) { for (i = 1; i <= nf; i++) if (fr[i] ~ /KernelProbe/) started = 1; if (!started) { nf = 0; return } }
        ks = ""; for (i = 1; i <= nf; i++) if (kern[i]) ks = ks " " sym[i] " "
        if (ks == "") { cnt["user"]++; nf = 0; return }
        n = split("nf_tables_commit nf_tables_abort nf_tables_newrule nf_tables_newset nf_tables_newsetelem nf_tables_newchain nf_tables_delrule nf_tables_delset nf_tables_delsetelem nf_tables_delchain nfnetlink_rcv_batch", hs, " ")
        cat = "kernel, other"
        for (i = 1; i <= n; i++) if (index(ks, " " hs[i] " ")) { cat = hs[i]; break }
        if (cat == "nf_tables_commit") {
            if (index(ks, " nf_tables_validate ") || index(ks, " nft_table_validate ")) cat = cat ": validation"
            else if (index(ks, " __pi_memcpy ") || index(ks, " memcpy ")) cat = cat ": chain blob copy"
        } else if (cat == "nf_tables_newrule") {
            if (index(ks, " nft_set_lookup_global ")) cat = cat ": set name walk"
            else if (index(ks, " __nft_expr_type_get ")) cat = cat ": expression types"
        }
        cnt[cat]++; nf = 0
    }
    /^[^ \t]/ { flush(); if (match($0, /[0-9]+ cpu-clock/)) period = substr($0, RSTART, RLENGTH) + 0; next }
    /^[ \t]*$/ { flush(); next }
    { nf++; fr[nf] = $0; split($2, a, "+"); sym[nf] = a[1]; kern[nf] = ($0 ~ /kernel\.kallsyms/) }
    END { flush(); for (c in cnt) printf "%8.3f ms  %s\n", cnt[c] * period / 1e6 / rounds, c }' | sort -rn
}

if [ "${1:-}" = probe-perf ]; then
    driver="$2" label="$3" rounds="${4:-200}"
    ip netns add "$NS"
    env ${5:+FELIX_BENCH_PROBE_COLD=$5} FELIX_BENCH_PROBE="$label" FELIX_BENCH_PROBE_N="$rounds" \
        perf record -q -g -F 4999 -o "$WORK/perf.data" -- "$driver" "$NS" "$WORK/ruleset.nft" 1000 500 0 | tr ' ' '\n' | grep probe_
    echo "kernel time per round (the change and its revert), from perf samples at 4999 Hz:"
    perf script -i "$WORK/perf.data" 2>/dev/null | perf_by_handler "$rounds" | grep -v ' user$' | head -20
    exit 0
fi

gcc -O2 -Wall -o "$WORK/probe" nft-commit-probe.c -lnftnl -lmnl

# Loads a ruleset text into a fresh namespace and prints the probe's figures on one line.
probe() {
    ip netns del "$NS" 2>/dev/null || true
    ip netns add "$NS"
    ip netns exec "$NS" nft -f "$1"
    ip netns exec "$NS" "$WORK/probe" calico "${2:-40}" | grep -E '^(rule with|new set:|new set \+ element by name)' |
        sed 's/, p90 [0-9]* us//' | tr '\n' ';'
}

# K chains of R rules (R-1 mark tests that return, then a counted drop) reached through one
# verdict map from a forward base chain, plus S named sets of one port each.
synthetic_table() {
    awk -v k="$1" -v r="$2" -v s="$3" 'BEGIN {
        print "table inet calico {"
        for (i = 0; i < s; i++) printf "  set v-%08x {\n    type inet_service\n    elements = { %d }\n  }\n", i, 1000 + i % 5000
        if (k > 0) {
            printf "  map disp {\n    type ifname : verdict\n    elements = { "
            for (i = 0; i < k; i++) printf "%s\"if%d\" : jump leaf%d", (i ? ", " : ""), i, i
            print " }\n  }"
        }
        for (i = 0; i < k; i++) {
            printf "  chain leaf%d {\n", i
            for (j = 1; j < r; j++) print "    meta mark & 0x10000 == 0x10000 counter return"
            print "    counter drop\n  }"
        }
        print "  chain fwdc {\n    type filter hook forward priority 0; policy accept;"
        if (k > 0) print "    oifname vmap @disp"
        print "  }\n}"
    }'
}

case "${1:-}" in
synthetic)
    echo "kernel $(uname -r), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ)"
    for shape in "0 0 0" "500 2 0" "1000 2 0" "2000 1 0" "1000 4 0" "500 8 0" "2000 2 0" "3000 1 0" "4000 1 0" \
                 "2500 2 0" "3000 2 0" "3500 2 0" "4000 2 0" "2000 4 0" "0 0 500" "0 0 1500" "0 0 3000"; do
        set -- $shape
        synthetic_table "$1" "$2" "$3" > "$WORK/t.nft"
        echo "chains $1 x rules $2 ($(( $1 * $2 )) rules), sets $3: $(probe "$WORK/t.nft") load $(cut -d' ' -f1 /proc/loadavg)"
    done
    ;;
variants)
    text="${2:?ruleset text}"; rounds="${3:-6}"
    cp "$text" "$WORK/as-rendered.nft"
    awk '/chain cali-(tw|fw)-/ { leaf = 1 } leaf && /counter drop/ { next } /^\t}/ { leaf = 0 } { print }' "$text" > "$WORK/leaves-one-rule.nft"
    sed -E 's/ comment "[^"]*"//' "$text" > "$WORK/no-comments.nft"
    awk '/chain cali-(tw|fw)-/ { leaf = 1; print; next } leaf && /^\t\t/ { next } /^\t}/ { leaf = 0 } { print }' "$text" > "$WORK/leaves-empty.nft"
    sed -E '/vmap @cali-(fw|tw)-dispatch/d' "$text" > "$WORK/leaves-unreferenced.nft"
    for r in $(seq "$rounds"); do
        for v in as-rendered leaves-one-rule no-comments leaves-empty leaves-unreferenced; do
            echo "round $r $v: $(probe "$WORK/$v.nft") load $(cut -d' ' -f1 /proc/loadavg)"
        done
    done
    ;;
endpoint-chains)
    text="${2:?ruleset text}"; rounds="${3:-6}"
    cp "$text" "$WORK/as-rendered.nft"
    python3 endpoint-chain-variants.py "$text" "$WORK"
    for r in $(seq "$rounds"); do
        for v in as-rendered chains-2 chains-1 entry-3 chains-empty; do
            echo "round $r $v: $(probe "$WORK/$v.nft") load $(cut -d' ' -f1 /proc/loadavg)"
        done
    done
    ;;
*) sed -n '2,15p' "$0"; exit 2 ;;
esac
