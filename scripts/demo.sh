#!/usr/bin/env bash
# The demo (root): a three-node development cluster in network namespaces, `calico-node run`
# (felix + BGP) inside every node, pods with labels on every node, the BGP full mesh, pods on
# different nodes reaching each other over BGP-learned routes (no static routes), then a
# default-deny NetworkPolicy and an allow policy applied with kubectl, with the TCP connectivity
# matrix printed before and after. Everything is torn down on exit, also on failure or Ctrl-C.
#   DEMO_BIN=DIR   use the calico-node and calico-devcluster binaries in DIR (no build)
#   DEMO_KEEP=1    keep the work directory (node logs) after tearing the cluster down
# Besides the tables, each flow is printed as `MATRIX <before|after> <src>-><dst> <ok|blocked>`
# for machines (Tests/IntegrationTests/DemoTests.swift checks them).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
START=$SECONDS

section() { printf '\n==== [%3ds] %s ====\n' $((SECONDS - START)) "$*"; }
say() { printf '  %s\n' "$*"; }
die() { printf 'demo.sh: %s\n' "$*" >&2; exit 1; }

((EUID == 0)) || die "needs root: the nodes and pods are network namespaces (sudo bash scripts/demo.sh)"
command -v kubectl >/dev/null || die "kubectl is not on PATH"
command -v ncat >/dev/null || die "ncat is not on PATH (apt-get install ncat, or run bash scripts/test.sh once)"

# Each pod: namespace/name, node, labels. A small TCP server listens on port 80 in every pod.
PODS=(shop/frontend shop/backend shop/db other/stranger)
declare -A NODE=([shop/frontend]=node-1 [shop/backend]=node-2 [shop/db]=node-3 [other/stranger]=node-1)
declare -A LABELS=([shop/frontend]=app=frontend [shop/backend]=app=backend [shop/db]=app=db [other/stranger]=app=stranger)
PORT=80

if [[ -n ${DEMO_BIN:-} ]]; then
    BIN=$DEMO_BIN
else
    section "build (swift build)"
    command -v swift >/dev/null || die "swift is not on PATH"
    for product in calico-node calico-devcluster; do
        log=$(swift build --product "$product" 2>&1) || { printf '%s\n' "$log" | grep -E 'error' | head -20; die "building $product failed"; }
    done
    BIN=$ROOT/.build/debug
    BUILD_SECONDS=$((SECONDS - START))
    say "built in ${BUILD_SECONDS}s (not counted below)"
    START=$SECONDS
fi
DC=("$BIN/calico-devcluster")
CALICO_NODE=$BIN/calico-node
[[ -x ${DC[0]} && -x $CALICO_NODE ]] || die "no calico-devcluster/calico-node in $BIN"

WORK=$(mktemp -d /tmp/calico-demo.XXXXXX)
DIR=$WORK/cluster
NAME=demo$(printf '%04x' $((RANDOM % 65536)))
# Every process the demo starts inherits this, so a leak check can find stragglers by it.
export CALICO_DEMO_CLUSTER=$NAME
unset K8S_API_ENDPOINT K8S_TOKEN K8S_CA_FILE K8S_CERT_FILE K8S_KEY_FILE IP IP6 KUBECONFIG
RUN_PIDS=()
SERVER_PIDS=()

dc() { "${DC[@]}" "$@" --data-dir "$DIR"; }
dcexec() { local target=$1; shift; "${DC[@]}" exec "$target" --data-dir "$DIR" -- "$@"; }
declare -A POD_IP POD_NETNS
# Each pod's first address and network namespace, from `calico-devcluster status`'s pod table.
load_pods() {
    local key node ips netns
    while IFS=$'\t' read -r key node ips netns; do
        [[ -n ${NODE[$key]:-} ]] || continue
        POD_IP[$key]=${ips%%[/,]*}
        POD_NETNS[$key]=$netns
    done < <(dc status)
}

stop_pids() {  # SIGTERM, up to 10 s, then SIGKILL
    local pid
    (($# == 0)) && return 0
    kill "$@" 2>/dev/null || true
    for _ in $(seq 100); do
        local alive=0
        for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    kill -9 "$@" 2>/dev/null || true
    for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    section "tear down"
    stop_pids "${SERVER_PIDS[@]}"
    ((${#RUN_PIDS[@]})) && say "stopping calico-node run on every node (SIGTERM: BGP sessions end with a Cease)"
    stop_pids "${RUN_PIDS[@]}"
    if ((status != 0)); then
        for f in "$WORK"/node-*.log; do
            [[ -s $f ]] || continue
            echo "--- last lines of $(basename "$f") ---"
            tail -n 15 "$f"
        done
    fi
    [[ -f $DIR/state.json ]] && { dc down | sed 's/^/  /' || true; }
    if [[ ${DEMO_KEEP:-0} == 1 ]]; then say "kept $WORK"; else rm -rf "$WORK"; fi
    if ((status == 0)); then
        printf '\ndemo finished in %ds%s\n' $((SECONDS - START)) "${BUILD_SECONDS:+ (plus ${BUILD_SECONDS}s of build)}"
    else
        printf '\ndemo FAILED (exit %d) after %ds\n' "$status" $((SECONDS - START))
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Polls `cmd` every 0.5 s for up to `seconds`.
wait_for() {
    local seconds=$1 what=$2; shift 2
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || die "timed out after ${seconds}s waiting for $what"
        sleep 0.5
    done
}

# One TCP connect from every pod to every other pod, all at once; results in $WORK/probe/.
probe() {
    rm -rf "$WORK/probe" && mkdir -p "$WORK/probe"
    local src dst ip pids=()
    for src in "${PODS[@]}"; do
        for dst in "${PODS[@]}"; do
            [[ $src == "$dst" ]] && continue
            ip=${POD_IP[$dst]}
            # ip netns exec, not `calico-devcluster exec`: cheap to start, so a loaded machine
            # does not turn a slow start into a false "blocked". A dropped SYN costs -w 2 seconds.
            ( if timeout 10 ip netns exec "${POD_NETNS[$src]}" ncat -z -w 2 "$ip" "$PORT" >/dev/null 2>&1
              then echo ok; else echo blocked; fi >"$WORK/probe/${src//\//_}--${dst//\//_}" ) &
            pids+=($!)
        done
    done
    wait "${pids[@]}"  # only the probes: the servers and calico-node runs are children too
}
result() { cat "$WORK/probe/${1//\//_}--${2//\//_}"; }

# The expected verdict of a flow: every flow is open before the policies; after them only
# frontend -> backend enters namespace shop, and namespace other (no policy) stays open.
expected() {
    local phase=$1 src=$2 dst=$3
    if [[ $phase == before || "$src->$dst" == shop/frontend-\>shop/backend || $dst == other/* ]]; then echo ok; else echo blocked; fi
}

matches() {  # the last probe equals the expected matrix for $1
    local src dst
    for src in "${PODS[@]}"; do
        for dst in "${PODS[@]}"; do
            [[ $src == "$dst" ]] && continue
            [[ $(result "$src" "$dst") == "$(expected "$1" "$src" "$dst")" ]] || return 1
        done
    done
}

mismatches() {  # the flows of the last probe that differ from the expected matrix for $1
    local src dst out=()
    for src in "${PODS[@]}"; do
        for dst in "${PODS[@]}"; do
            [[ $src == "$dst" ]] && continue
            [[ $(result "$src" "$dst") == "$(expected "$1" "$src" "$dst")" ]] || out+=("$src->$dst $(result "$src" "$dst")")
        done
    done
    local IFS=,
    echo "${out[*]}"
}

# Probes until the matrix is the expected one (routes and rules arrive asynchronously) or
# `seconds` pass, then prints it as a table and as MATRIX lines.
matrix() {
    local phase=$1 seconds=$2 began=$SECONDS deadline=$((SECONDS + $2)) src dst
    local last=""
    while :; do
        probe
        matches "$phase" && break
        ((SECONDS < deadline)) || break
        local wrong
        wrong=$(mismatches "$phase")
        [[ $wrong == "$last" ]] || say "[$((SECONDS - START))s] not yet as expected: $wrong"
        last=$wrong
        sleep 0.5
    done
    printf '  %-16s' "from \\ to"
    for dst in "${PODS[@]}"; do printf '%-16s' "$dst"; done
    printf '\n'
    for src in "${PODS[@]}"; do
        printf '  %-16s' "$src"
        for dst in "${PODS[@]}"; do
            if [[ $src == "$dst" ]]; then printf '%-16s' "-"; else printf '%-16s' "$(result "$src" "$dst")"; fi
        done
        printf '\n'
    done
    for src in "${PODS[@]}"; do
        for dst in "${PODS[@]}"; do
            [[ $src == "$dst" ]] || echo "MATRIX $phase $src->$dst $(result "$src" "$dst")"
        done
    done
    matches "$phase" || die "the $phase matrix is not the expected one after ${seconds}s"
    say "the $phase matrix is as expected (settled in $((SECONDS - began))s)"
}

section "up: three nodes in network namespaces, calico CNI plugin, host-local IPAM (usePodCidr)"
for attempt in 1 2 3 4 5; do
    UNDERLAY="172.31.$((10 + RANDOM % 90)).0/24"
    if out=$(dc up --nodes 3 --name "$NAME" --underlay-cidr "$UNDERLAY" --cni calico --ipam host-local 2>&1); then
        printf '%s\n' "$out" | sed 's/^/  /'
        break
    fi
    [[ $out == *"already assigned"* && $attempt -lt 5 ]] || { printf '%s\n' "$out" >&2; die "calico-devcluster up failed"; }
done
export KUBECONFIG=$DIR/apiserver/admin.kubeconfig
kubectl get nodes -o wide | sed 's/^/  /'

section "calico-node run (startup, felix, BGP) inside each node"
for node in node-1 node-2 node-3; do
    CALICO_NETWORKING_BACKEND=bird CALICO_IPV4POOL_CIDR=10.244.0.0/16 USE_POD_CIDR=true \
    IP_AUTODETECTION_METHOD=interface=eth0 FELIX_DEFAULTENDPOINTTOHOSTACTION=Accept \
    CALICO_CNI_API_SOCKET="$DIR/nodes/$node/cni-api.sock" \
        "${DC[@]}" exec "$node" --data-dir "$DIR" -- "$CALICO_NODE" run --nodename-file "$WORK/$node.nodename" >"$WORK/$node.log" 2>&1 &
    # A simple command (not a function) in the background: $! is calico-node itself, as exec execs.
    RUN_PIDS+=($!)
    say "$node: calico-node run (pid $!, log $WORK/$node.log)"
done
for node in node-1 node-2 node-3; do
    wait_for 60 "$node to be ready (calico-node check -felix-ready -bird-ready)" \
        dcexec "$node" "$CALICO_NODE" check -felix-ready -bird-ready -felix-live -bird-live
    say "$node: felix and BGP ready"
done

section "the BGP full mesh (calico-node ctl node status on node-1)"
mesh_up() { [[ $(dcexec node-1 "$CALICO_NODE" ctl node status | grep -c Established) == 2 ]]; }
wait_for 30 "node-1 to have both mesh peers Established" mesh_up
dcexec node-1 "$CALICO_NODE" ctl node status | sed 's/^/  /'

section "pods on every node, each with a TCP server on port $PORT"
for pod in "${PODS[@]}"; do
    dc pod add "${NODE[$pod]}" "${pod%/*}" "${pod#*/}" --labels "${LABELS[$pod]}" --port "http=$PORT/TCP" | sed 's/^/  /'
    "${DC[@]}" exec "$pod" --data-dir "$DIR" -- ncat -lk "$PORT" --sh-exec 'echo hello' >/dev/null 2>&1 &
    SERVER_PIDS+=($!)
done
load_pods
kubectl get pods -A -o wide | sed 's/^/  /'
say "calico-node ctl get workloadendpoints (the pods as Calico sees them):"
KUBECONFIG=$KUBECONFIG "$CALICO_NODE" ctl get workloadendpoints | sed 's/^/  /'

section "connectivity before any policy: every pod reaches every pod (TCP $PORT)"
matrix before 45

section "routes on node-1: the other nodes' pods via their node addresses, learned over BGP (proto 80)"
dcexec node-1 ip route | sed 's/^/  /'

section "kubectl apply: default-deny ingress in namespace shop, and allow frontend -> backend on TCP $PORT"
kubectl apply -f - <<EOF | sed 's/^/  /'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-frontend-to-backend, namespace: shop}
spec:
  podSelector: {matchLabels: {app: backend}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: frontend}}}]
    ports: [{protocol: TCP, port: $PORT}]
EOF
kubectl get networkpolicy -A | sed 's/^/  /'

section "connectivity with the policies: only frontend -> backend into shop; other/stranger still open"
matrix after 45

section "calico-node ctl explain: which policy and rule decides a flow"
for flow in "shop/frontend shop/backend" "shop/db shop/backend"; do
    say "ctl explain $flow --port $PORT"
    # shellcheck disable=SC2086
    "$CALICO_NODE" ctl explain $flow --port "$PORT" 2>&1 | sed 's/^/    /' || true
done

section "calico-node ctl endpoint: shop/backend's policies in order, and the nftables rules that apply to it"
"$CALICO_NODE" ctl endpoint shop/backend 2>&1 | sed 's/^/  /' || true
# backend's own chain in node-2's kernel: its counters are the matrix's probes to it.
BACKEND_IF=$("$CALICO_NODE" ctl endpoint shop/backend 2>/dev/null | sed -n 's/.*, interface \(cali[0-9a-f]*\),.*/\1/p')
section "node-2's chain for traffic to shop/backend (nft list chain inet calico cali-tw-$BACKEND_IF)"
dcexec node-2 nft list chain inet calico "cali-tw-$BACKEND_IF" 2>&1 | sed 's/^/  /' || true

section "node-1's metrics (GET 127.0.0.1:9091/metrics inside the node)"
dcexec node-1 curl -sf http://127.0.0.1:9091/metrics \
    | grep -E '^(felix_active_local_(endpoints|policies)|felix_int_dataplane_applies_total|calico_bgp_sessions\{state="Established"\}|calico_bgp_kernel_routes) ' \
    | sed 's/^/  /' || say "(metrics not available)"
