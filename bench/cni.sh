#!/usr/bin/env bash
# ADD+DEL latency of our calico CNI plugin against Debian's reference `ptp` plugin, side by side
# in one run (interleaved per iteration, same machine, same host-local IPAM):
#   ptp + host-local                  the reference
#   calico + host-local (no API)      fixed subnet, no pod arguments: plugin work only
#   calico + host-local (k8s pod)     usePodCidr from the Node, Pod annotations patched (3-5 API calls)
#   calico + calico-ipam (k8s pod)    when `calico-node ipam` works (CALICO_IPAM=0 leaves it out)
#   ... via agent socket              the two k8s columns again with the API reached through the
#                                     calico-node agent's unix socket (`calico-node cni-api-proxy`
#                                     against the same API server): no libcurl, no TLS handshake;
#                                     calico-ipam's ADD and DEL run in the agent (one request each)
# Prints median and p99 per column and their ratios to ptp, then checks that the ITER cycles
# leaked nothing (no host-local reservation, no veth, no route).
# Usage: bench/cni.sh [ITER] (default 1000). Needs root, Debian's containernetworking-plugins,
# curl. Uses .build-release/release/calico-node (scripts/build-release.sh, as the Dockerfile
# builds it, run if missing; CALICO_NODE_BIN overrides) and the dev API server calico-devcluster (release if built, else
# debug; CALICO_DEVCLUSTER_BIN overrides; the header line says which). CALICO_CNI_TIMING=1 makes
# the plugin print its phases to stderr; CNI_PHASES=N adds N timed cycles per column and prints
# each phase's median. CNI_COLS="ptp plain k8ssock cipamsock" runs only those columns (ptp, the
# reference, always); CALICO_AGENT_BIN runs the agent from another build than the plugin (A/B of
# agent changes with one plugin); CNI_AGENT_NODECACHE=0 starts it without its Node cache.
set -euo pipefail
cd "$(dirname "$0")/.."
ITER="${1:-1000}"
# The shipped build (scripts/build-release.sh, as the Dockerfile builds it): linked for a fast
# process start, which every ADD and DEL pays two to four times.
BIN="${CALICO_NODE_BIN:-.build-release/release/calico-node}"
DEVCLUSTER="${CALICO_DEVCLUSTER_BIN:-}"
if [[ ! -x "$BIN" ]]; then BIN="$(bash scripts/build-release.sh)"; fi
# The API columns measure the plugin, so the server should be a release build: a debug build of
# its TLS stack (swift-nio-ssl's BoringSSL) spends ~10-25 ms per handshake. Build one with
#   swift build -c release --product calico-devcluster
# (or point CALICO_DEVCLUSTER_BIN at one, e.g. a release build under another --scratch-path).
if [[ -z "$DEVCLUSTER" ]]; then
    for c in .build/release/calico-devcluster "$(dirname "$BIN")/calico-devcluster" .build/debug/calico-devcluster; do
        [[ -x "$c" ]] && DEVCLUSTER="$c" && break
    done
fi
[[ -x "$DEVCLUSTER" ]] || { swift build --product calico-devcluster; DEVCLUSTER=.build/debug/calico-devcluster; }
case "$(cd "$(dirname "$DEVCLUSTER")" && pwd)" in
    */release|*/release/*) SERVER_BUILD=release ;;
    */debug|*/debug/*) SERVER_BUILD="debug (slow TLS; build a release server for fair API columns)" ;;
    *) SERVER_BUILD="unknown build" ;;
esac
echo "API server: $DEVCLUSTER ($SERVER_BUILD)" >&2
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"

TAG="cnb$$"
WORK="$(mktemp -d)"
NS="$TAG"
API_PID=""
AGENT_PID=""
cleanup() {
    [[ -n "$AGENT_PID" ]] && kill "$AGENT_PID" 2>/dev/null || true
    [[ -n "$API_PID" ]] && kill "$API_PID" 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/bin" "$WORK/ipam" "$WORK/api"
# usePodCidr's cache of the Node's pod CIDRs, in the run's own directory (default /run/calico).
export CALICO_CNI_PODCIDR_CACHE_DIR="$WORK/podcidrs"
ln -s "$BIN" "$WORK/bin/calico"
ln -s "$BIN" "$WORK/bin/calico-ipam"
for p in host-local ptp; do ln -s "/usr/lib/cni/$p" "$WORK/bin/$p"; done

# The dev API server, a Node with a podCIDR, one Pod the k8s columns attach again and again.
"$DEVCLUSTER" apiserver --port 0 --data-dir "$WORK/api" > "$WORK/api.out" 2> "$WORK/api.log" &
API_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/api.out" 2>/dev/null && break; sleep 0.1; done
URL=$(grep -o 'https://[0-9.:]*' "$WORK/api.out" | head -1)
TOKEN=$(grep 'token:' "$WORK/api/admin.kubeconfig" | head -1 | awk '{print $2}' | tr -d '"')
api() { curl -sS --fail -o /dev/null --cacert "$WORK/api/ca.crt" -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" -X "$1" "$URL$2" ${3:+--data-binary "$3"}; }
NODE="$TAG-node"
api POST /api/v1/nodes "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"$NODE\"},\"spec\":{\"podCIDR\":\"100.127.1.0/24\"}}"
api POST /api/v1/namespaces/default/pods "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"$TAG-pod\",\"namespace\":\"default\"},\"spec\":{\"nodeName\":\"$NODE\",\"containers\":[{\"name\":\"c\",\"image\":\"pause\"}]}}"
api POST /apis/crd.projectcalico.org/v1/ippools "{\"apiVersion\":\"crd.projectcalico.org/v1\",\"kind\":\"IPPool\",\"metadata\":{\"name\":\"$TAG-pool\"},\"spec\":{\"cidr\":\"100.126.0.0/16\",\"blockSize\":26}}" 2>/dev/null || true

# The agent's socket for the plugins (the direct columns turn it off with CALICO_CNI_API_SOCKET=none).
SOCK="$WORK/agent/cni.sock"
AGENT_BIN="${CALICO_AGENT_BIN:-$BIN}"
# NODENAME: the agent keeps this Node from a watch and answers the plugins' usePodCidr reads
# (CNI_AGENT_NODECACHE=0: it forwards them, as an agent without the cache).
AGENT_NODE="$NODE"; [[ "${CNI_AGENT_NODECACHE:-1}" == 0 ]] && AGENT_NODE=""
NODENAME="$AGENT_NODE" KUBECONFIG="$WORK/api/admin.kubeconfig" "$AGENT_BIN" cni-api-proxy --cni-api-socket "$SOCK" > "$WORK/agent.log" 2>&1 &
AGENT_PID=$!
for _ in $(seq 100); do [[ -S "$SOCK" ]] && break; sleep 0.1; done
[[ -S "$SOCK" ]] || { echo "the agent's socket did not appear: $(cat "$WORK/agent.log")" >&2; exit 1; }

conf() { # name type ipam-json [extra]
    echo "{\"cniVersion\":\"1.0.0\",\"name\":\"$1\",\"type\":\"$2\",\"mtu\":1500,\"nodename\":\"$NODE\",\"kubernetes\":{\"kubeconfig\":\"$WORK/api/admin.kubeconfig\"},\"ipam\":$3${4:+,$4}}"
}
echo "$(conf ptpnet ptp "{\"type\":\"host-local\",\"subnet\":\"100.127.2.0/24\",\"dataDir\":\"$WORK/ipam\"}" '"ipMasq":false')" > "$WORK/ptp.json"
echo "$(conf plainnet calico "{\"type\":\"host-local\",\"subnet\":\"100.127.3.0/24\",\"dataDir\":\"$WORK/ipam\"}")" > "$WORK/plain.json"
echo "$(conf k8snet calico "{\"type\":\"host-local\",\"subnet\":\"usePodCidr\",\"dataDir\":\"$WORK/ipam\"}")" > "$WORK/k8s.json"
echo "$(conf ipamnet calico "{\"type\":\"calico-ipam\",\"ipv4_pools\":[\"100.126.0.0/16\"]}")" > "$WORK/cipam.json"
cp "$WORK/k8s.json" "$WORK/k8ssock.json"
cp "$WORK/cipam.json" "$WORK/cipamsock.json"

ip netns add "$NS"
K8S_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=$TAG-pod;K8S_POD_INFRA_CONTAINER_ID=x"
# One ADD+DEL; prints its wall time in microseconds (bash's clock, no fork for timing).
cycle() { # config id args [agent socket, default none: the direct API]
    local start=$EPOCHREALTIME
    export CALICO_CNI_API_SOCKET="${4:-none}"
    CNI_COMMAND=ADD CNI_CONTAINERID="$2" CNI_NETNS="/var/run/netns/$NS" CNI_IFNAME=eth0 CNI_PATH="$WORK/bin" CNI_ARGS="$3" \
        "$WORK/bin/$(grep -o '"type":"[a-z]*"' "$1" | head -1 | cut -d'"' -f4)" < "$1" > "$WORK/out" || { echo "ADD failed: $(cat "$WORK/out")" >&2; return 1; }
    CNI_COMMAND=DEL CNI_CONTAINERID="$2" CNI_NETNS="/var/run/netns/$NS" CNI_IFNAME=eth0 CNI_PATH="$WORK/bin" CNI_ARGS="$3" \
        "$WORK/bin/$(grep -o '"type":"[a-z]*"' "$1" | head -1 | cut -d'"' -f4)" < "$1" > "$WORK/out" || { echo "DEL failed: $(cat "$WORK/out")" >&2; return 1; }
    local end=$EPOCHREALTIME
    echo $(( (${end/./} - ${start/./}) ))
}

COLS=(ptp plain k8s)
if [[ "${CALICO_IPAM:-1}" == "1" ]]; then
    if cycle "$WORK/cipam.json" "${TAG}probe" "$K8S_ARGS" > /dev/null 2>&1; then COLS+=(cipam); else echo "calico-ipam column skipped: its ADD failed" >&2; fi
fi
# The socket columns must really reach the agent (the plugin says which way it went).
CALICO_CNI_TIMING=1 cycle "$WORK/k8ssock.json" "${TAG}sockprobe" "$K8S_ARGS" "$SOCK" > /dev/null 2> "$WORK/sockprobe.err" || true
if ! grep -q "api via the agent socket" "$WORK/sockprobe.err"; then
    echo "the agent socket columns did not reach the agent: $(cat "$WORK/sockprobe.err" "$WORK/agent.log")" >&2; exit 1
fi
COLS+=(k8ssock)
if [[ " ${COLS[*]} " == *" cipam "* ]]; then
    # calico-ipam via the socket runs in the agent (one request per ADD and DEL) when the agent
    # serves its IPAM endpoint; an older agent gets the per-object requests (said, not fatal).
    CALICO_CNI_TIMING=1 cycle "$WORK/cipamsock.json" "${TAG}ipamprobe" "$K8S_ARGS" "$SOCK" > /dev/null 2> "$WORK/ipamprobe.err" || true
    grep -q "ipam ADD: in the agent" "$WORK/ipamprobe.err" && echo "calico-ipam via the socket: IPAM in the agent" >&2 \
        || echo "calico-ipam via the socket: IPAM in the plugin (per-object requests through the agent)" >&2
    COLS+=(cipamsock)
fi
if [[ -n "${CNI_COLS:-}" ]]; then
    keep=(ptp); for c in "${COLS[@]}"; do [[ "$c" != ptp && " $CNI_COLS " == *" $c "* ]] && keep+=("$c"); done
    COLS=("${keep[@]}")
fi
echo "agent: $AGENT_BIN (pid $AGENT_PID)" >&2
cpu_ticks() { local f; read -r -a f < "/proc/$1/stat"; echo $(( f[13] + f[14] )); }
AGENT_TICKS0=$(cpu_ticks "$AGENT_PID")
declare -A COL_TICKS  # the agent's CPU ticks spent during each socket column's cycles
for i in $(seq "$ITER"); do
    for c in "${COLS[@]}"; do
        args=""; [[ "$c" == k8s* || "$c" == cipam* ]] && args="$K8S_ARGS"
        sock=none; [[ "$c" == *sock ]] && sock="$SOCK"
        [[ "$c" == *sock ]] && t0=$(cpu_ticks "$AGENT_PID")
        cycle "$WORK/$c.json" "$TAG$c$i" "$args" "$sock" >> "$WORK/$c.us"
        [[ "$c" == *sock ]] && COL_TICKS[$c]=$(( ${COL_TICKS[$c]:-0} + $(cpu_ticks "$AGENT_PID") - t0 ))
    done
done

stat() { sort -n "$WORK/$1.us" | awk '{v[NR]=$1} END { m=v[int((NR+1)/2)]; p=v[int(NR*0.99+0.5)]; if (p=="") p=v[NR]; printf "%.2f %.2f", m/1000, p/1000 }'; }
read -r ptp_med ptp_p99 <<< "$(stat ptp)"
echo "CNI ADD+DEL, $ITER cycles per column, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, kernel $(uname -r), binary $BIN, API server $DEVCLUSTER ($SERVER_BUILD)"
printf "%-48s %10s %10s %12s %12s\n" column "median ms" "p99 ms" "median/ptp" "p99/ptp"
for c in "${COLS[@]}"; do
    read -r med p99 <<< "$(stat "$c")"
    case $c in ptp) label="ptp + host-local (reference)";; plain) label="calico + host-local (no API)";;
        k8s) label="calico + host-local (k8s pod)";; cipam) label="calico + calico-ipam (k8s pod)";;
        k8ssock) label="calico + host-local (k8s pod via agent socket)";; cipamsock) label="calico + calico-ipam (k8s pod via agent socket)";; esac
    awk -v l="$label" -v m="$med" -v p="$p99" -v rm="$ptp_med" -v rp="$ptp_p99" 'BEGIN { printf "%-48s %10.2f %10.2f %12.2f %12.2f\n", l, m, p, m/rm, p/rp }'
done

AGENT_TICKS1=$(cpu_ticks "$AGENT_PID")
SOCK_COLS=0; for c in "${COLS[@]}"; do [[ "$c" == *sock ]] && SOCK_COLS=$((SOCK_COLS + 1)); done
awk -v t=$((AGENT_TICKS1 - AGENT_TICKS0)) -v hz="$(getconf CLK_TCK)" -v n=$((ITER * SOCK_COLS)) \
    'BEGIN { printf "agent CPU (user+system) per ADD+DEL through its socket: %.2f ms over %d cycles\n", t * 1000 / hz / n, n }'
for c in "${COLS[@]}"; do
    [[ "$c" == *sock ]] || continue
    awk -v c="$c" -v t="${COL_TICKS[$c]:-0}" -v hz="$(getconf CLK_TCK)" -v n="$ITER" \
        'BEGIN { printf "  of it during the %s cycles: %.2f ms per ADD+DEL\n", c, t * 1000 / hz / n }'
done

# With CNI_PHASES=N: N more cycles per calico column with CALICO_CNI_TIMING=1, and the median
# of each phase the plugin reports (where an invocation's time goes).
if [[ "${CNI_PHASES:-0}" -gt 0 ]]; then
    echo "phase medians over $CNI_PHASES cycles per column (CALICO_CNI_TIMING=1), ms:"
    for c in "${COLS[@]}"; do
        [[ "$c" == ptp ]] && continue
        args=""; [[ "$c" == k8s* || "$c" == cipam* ]] && args="$K8S_ARGS"
        sock=none; [[ "$c" == *sock ]] && sock="$SOCK"
        for i in $(seq "$CNI_PHASES"); do
            CALICO_CNI_TIMING=1 cycle "$WORK/$c.json" "${TAG}ph$c$i" "$args" "$sock" 2>> "$WORK/$c.phases" > /dev/null
        done
        grep ' ms$' "$WORK/$c.phases" | sed -e 's/^calico cni //' -e 's/ \([0-9.]*\) ms$/\t\1/' | sort -t$'\t' -k1,1 -k2,2n |
            awk -F'\t' -v col="$c" '{ v[$1]=v[$1] " " $2; n[$1]++ } END { for (k in v) { split(substr(v[k],2), a, " "); printf "  %-10s %-40s %7.2f\n", col, k, a[int((n[k]+1)/2)] } }' | sort
    done
fi

# Leak check after all the cycles.
left_res=$(find "$WORK/ipam" -type f ! -name lock ! -name 'last_reserved_ip*' | wc -l)
left_pod=$(ip -n "$NS" -o link show | grep -vc "lo:" || true)
left_routes=$(ip route show | grep -c "100.127." || true)
left_handles=$(curl -sS --cacert "$WORK/api/ca.crt" -H "Authorization: Bearer $TOKEN" "$URL/apis/crd.projectcalico.org/v1/ipamhandles" | { grep -o '"handleID"' || true; } | wc -l)
echo "after the cycles: host-local reservations left $left_res, IPAM handles left $left_handles, pod-side links left $left_pod, routes into the pod ranges left $left_routes"
[[ "$left_res" == 0 && "$left_handles" == 0 && "$left_pod" == 0 && "$left_routes" == 0 ]] || { echo "LEAK" >&2; exit 1; }
