#!/usr/bin/env bash
# BGP convergence into the RIB and the kernel, ours against BIRD 2 (root; needs gobgpd, bird2, python3).
# gobgpd (namespace T) is loaded with N IPv4 /24s from an MRT table dump; then a receiver in namespace
# O peers with it and installs every route into O's kernel: first our speaker with the BGP role's
# kernel programmer (`calico-node bgp --bench-peer`, a release build), then BIRD with its kernel
# protocol. Prints seconds from the session's establishment to all routes in the RIB and in the kernel, the peak memory
# growth per route and the ratios ours/bird.
# Usage: bench/bgp-convergence.sh [N ...] (default 100000 1000000). CALICO_NODE_BIN=path skips the build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ -z "${CALICO_NODE_BIN:-}" ]]; then
    swift build -c release --product calico-node >/dev/null
    CALICO_NODE_BIN=$(swift build -c release --show-bin-path)/calico-node
fi
tag="bgpb$$"; O="${tag}o"; T="${tag}t"; WORK=$(mktemp -d)
cleanup() {
    [[ -f "$WORK/gobgpd.pid" ]] && kill -9 "$(cat "$WORK/gobgpd.pid")" 2>/dev/null || true
    [[ -f "$WORK/bird.pid" ]] && kill -9 "$(cat "$WORK/bird.pid")" 2>/dev/null || true
    ip netns del "$O" 2>/dev/null || true; ip netns del "$T" 2>/dev/null || true; rm -rf "$WORK"
}
trap cleanup EXIT
kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
now() { date +%s.%N; }

lab() { # fresh namespaces joined by a veth: O 10.201.0.1, T 10.201.0.2
    ip netns del "$O" 2>/dev/null || true; ip netns del "$T" 2>/dev/null || true
    ip netns add "$O"; ip netns add "$T"
    ip link add "${tag}a" netns "$O" type veth peer name "${tag}b" netns "$T"
    ip -n "$O" addr add 10.201.0.1/24 dev "${tag}a"; ip -n "$T" addr add 10.201.0.2/24 dev "${tag}b"
    for ns in "$O" "$T"; do ip -n "$ns" link set lo up; done
    ip -n "$O" link set "${tag}a" up; ip -n "$T" link set "${tag}b" up
}

feeder() { # gobgpd in T holding N (+ up to 2,048 padding: `gobgp mrt inject` drops its last queue)
    local n=$1
    cat >"$WORK/gobgpd.toml" <<CONF
[global.config]
  as = 65010
  router-id = "10.201.0.2"
  port = 179
  local-address-list = ["10.201.0.2"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "10.201.0.1"
    peer-as = 64512
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
CONF
    ip netns exec "$T" gobgpd -f "$WORK/gobgpd.toml" -t toml -p --api-hosts 127.0.0.1:50051 --pprof-disable -l warn \
        >"$WORK/gobgpd.log" 2>&1 &
    echo $! >"$WORK/gobgpd.pid"
    until ip netns exec "$T" gobgp global >/dev/null 2>&1; do sleep 0.2; done
    ip netns exec "$T" gobgp mrt inject global "$WORK/feed.mrt" >/dev/null
    local held=0 last=-1
    while ((held != last || held < n)); do
        last=$held; sleep 1
        held=$(ip netns exec "$T" gobgp global rib summary -a ipv4 | awk '/^Destination:/ { gsub(",", "", $2); print $2 }')
    done
    echo "$held"
}

for n in ${@:-100000 1000000}; do
    python3 - "$n" "$WORK/feed.mrt" <<'PY'
import struct, sys
n = int(sys.argv[1]) + 2048
hop = bytes([10, 201, 0, 2])
def record(sub, body): return struct.pack(">IHHI", 0, 13, sub, len(body)) + body
attrs = bytes([0x40, 1, 1, 0, 0x40, 2, 6, 2, 1]) + struct.pack(">I", 65010) + bytes([0x40, 3, 4]) + hop
with open(sys.argv[2], "wb") as f:
    f.write(record(1, hop + struct.pack(">HHB", 0, 1, 2) + hop + hop + struct.pack(">I", 65010)))
    for i in range(n):
        p = (11 << 24) + (i << 8)
        f.write(record(2, struct.pack(">IB", i, 24) + struct.pack(">I", p)[:3] + struct.pack(">HHIH", 1, 0, 0, len(attrs)) + attrs))
PY
    # Ours.
    lab; total=$(feeder "$n")
    read -r ours < <("$CALICO_NODE_BIN" bgp --netns "/run/netns/$O" --bench-peer 10.201.0.2 --bench-count "$total")
    eval "$ours"
    o_rib=$rib_s; o_kernel=$kernel_s; o_kib=$((peak_kib - base_kib))
    [[ $(ip -n "$O" -4 route show proto 80 | wc -l) == "$total" ]] || echo "warning: kernel does not list $total of our routes"
    kill -9 "$(cat "$WORK/gobgpd.pid")"; rm -f "$WORK/gobgpd.pid"

    # BIRD.
    lab; total_b=$(feeder "$n")
    cat >"$WORK/bird.conf" <<CONF
router id 10.201.0.1;
protocol device {}
protocol kernel k4 { ipv4 { import none; export all; }; }
protocol bgp feeder { local 10.201.0.1 as 64512; neighbor 10.201.0.2 as 65010; ipv4 { import all; export none; }; }
CONF
    ip netns exec "$O" bird -f -c "$WORK/bird.conf" -s "$WORK/bird.ctl" &
    echo $! >"$WORK/bird.pid"; bird_pid=$(cat "$WORK/bird.pid")
    sleep 0.05; b_base=$(kib "$bird_pid" VmRSS)
    birdc() { ip netns exec "$O" birdc -s "$WORK/bird.ctl" "$@" 2>/dev/null || true; }
    # Timed from the session's establishment (BIRD waits its start delay first), as ours is.
    until birdc show protocols feeder | grep -q Established; do sleep 0.01; done
    start=$(now)
    until birdc show route count | grep -q "$total_b of $total_b routes"; do sleep 0.05; done
    b_rib=$(echo "$(now) - $start" | bc)
    until birdc show protocols all k4 | grep -q "$total_b exported"; do sleep 0.05; done
    b_kernel=$(echo "$(now) - $start" | bc)
    b_kib=$(($(kib "$bird_pid" VmHWM) - b_base))
    kill -9 "$bird_pid"; rm -f "$WORK/bird.pid"
    kill -9 "$(cat "$WORK/gobgpd.pid")"; rm -f "$WORK/gobgpd.pid"

    echo "BGP convergence, $total prefixes from gobgpd ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, kernel $(uname -r)):"
    echo "  ours: RIB ${o_rib}s, kernel ${o_kernel}s, peak memory growth ${o_kib} KiB ($((o_kib * 1024 / total)) B/route)"
    echo "  bird: RIB ${b_rib}s, kernel ${b_kernel}s, peak memory growth ${b_kib} KiB ($((b_kib * 1024 / total_b)) B/route)"
    awk -v a="$o_rib" -v b="$b_rib" -v c="$o_kernel" -v d="$b_kernel" -v e="$o_kib" -v f="$b_kib" \
        'BEGIN { printf "  ratio ours/bird: RIB %.2f, kernel %.2f, memory %.2f\n", a / b, c / d, e / f }'
done
