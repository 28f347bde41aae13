#!/usr/bin/env bash
# Adding/removing N /32 routes (default 10000) via Core/Kernel (libnl, one request + ack per route)
# against `ip -batch` (iproute2, also one request + ack per line), in a throwaway namespace.
# Usage: bench/netlink-routes.sh [N]. Needs root. Builds bench/netlink-routes/main.swift with the
# Core/Kernel sources by swiftc -O directly (no SwiftPM, so no wait for the shared .build).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-10000}"
NS="bench-nlroutes-$$"
WORK="$(mktemp -d)"
cleanup() { ip netns del "$NS" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

swiftc -O -swift-version 6 -parse-as-library -I Sources/CSystem -Xcc -I/usr/include/libnl3 \
    Sources/Core/Kernel/*.swift bench/netlink-routes/main.swift -o "$WORK/netlink-routes" \
    -lnl-route-3 -lnl-3 -lnftnl -lmnl -lcurl

ip netns add "$NS"
ip -n "$NS" link add ktb0 type veth peer name ktb1
ip -n "$NS" link set ktb0 up
ip -n "$NS" link set ktb1 up
ip -n "$NS" addr add 10.255.0.1/24 dev ktb0

ours=$("$WORK/netlink-routes" "$NS" "$N")

for ((i = 0; i < N; i++)); do
    echo "route add 10.100.$((i >> 8)).$((i & 255))/32 via 10.255.0.2 dev ktb0 proto 80"
done >"$WORK/add"
sed 's/^route add/route del/' "$WORK/add" >"$WORK/del"
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
t=$(date +%s%N); ip -n "$NS" -batch "$WORK/add"; ip_add=$(ms "$t")
t=$(date +%s%N); listed=$(ip -n "$NS" route show proto 80 | wc -l); ip_list=$(ms "$t")
t=$(date +%s%N); ip -n "$NS" -batch "$WORK/del"; ip_del=$(ms "$t")

eval "$(echo "$ours" | tr ' ' '\n' | sed 's/^/our_/')"
echo "routes=$N $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) CPUs kernel $(uname -r)"
echo "ours:  add ${our_add_ms} ms, list ${our_list_ms} ms (${our_listed} routes), delete ${our_del_ms} ms"
echo "ip:    add ${ip_add} ms, list ${ip_list} ms (${listed} routes), delete ${ip_del} ms"
awk -v a="$our_add_ms" -v b="$ip_add" -v c="$our_del_ms" -v d="$ip_del" \
    'BEGIN { printf "ratio ours/ip: add %.2f, delete %.2f\n", a / b, c / d }'
