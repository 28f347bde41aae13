#!/usr/bin/env bash
# A multi-node dev cluster on this machine (root): `calico-devcluster up` makes NODES network-
# namespace nodes on a bridge with an API server, registers them and runs `calico-node install-cni`
# for each; then pods are added the way the kubelet does (CNI chain from the node's conflist),
# pinged within and across nodes, deleted, and everything is torn down on exit.
#   NODES=2          number of nodes
#   CNI=calico       calico (ours) or reference (Debian's ptp + host-local)
#   IPAM=host-local  host-local (usePodCidr) or calico (Calico IPAM)
#   SKIP_BUILD=1     use the binaries already in .build/debug
#   KEEP=1           leave the cluster up (tear it down later with: calico-devcluster down --data-dir DIR)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=$PWD/.build/debug
NODES=${NODES:-2}
CNI=${CNI:-calico}
IPAM=${IPAM:-host-local}
DIR=$(mktemp -u /tmp/calico-devcluster.XXXXXX)
NAME=dc$(printf '%04x' $((RANDOM % 65536)))
DC=("$BIN/calico-devcluster")

section() { printf '\n==== %s ====\n' "$*"; }
die() { printf 'devcluster.sh: %s\n' "$*" >&2; exit 1; }

((EUID == 0)) || die "needs root (network namespaces)"
command -v swift >/dev/null || die "swift is not on PATH"

cleanup() {
    if [[ ${KEEP:-0} == 1 ]]; then
        echo "kept: export KUBECONFIG=$DIR/apiserver/admin.kubeconfig; tear down with: ${DC[*]} down --data-dir $DIR"
    else
        section "down"
        "${DC[@]}" down --data-dir "$DIR" || true
    fi
}

section "build"
for product in calico-node calico-devcluster; do
    [[ ${SKIP_BUILD:-0} == 1 ]] && break
    log=$(swift build --product "$product" 2>&1) || { printf '%s\n' "$log" | grep -E 'error' | head -20; die "build of $product failed"; }
done
trap cleanup EXIT

section "up: $NODES nodes, CNI $CNI, IPAM $IPAM"
# A free underlay /24: skip any 172.31.X.1 this namespace already has.
for x in $(seq 0 250); do
    ip -o -4 addr show | grep -q " 172.31.$x.1/" || break
done
time "${DC[@]}" up --nodes "$NODES" --name "$NAME" --data-dir "$DIR" --underlay-cidr "172.31.$x.0/24" \
    --cni "$CNI" --ipam "$IPAM" --static-routes
export KUBECONFIG=$DIR/apiserver/admin.kubeconfig
kubectl get nodes -o wide

section "pods"
for i in $(seq 1 "$NODES"); do
    "${DC[@]}" pod add "node-$i" default "web-$i" --labels app=web --port http=80 --data-dir "$DIR"
done
"${DC[@]}" pod add node-1 default client --labels app=client --data-dir "$DIR"
kubectl get pods -o wide

section "ping from client to every web pod (same node and across nodes)"
for ip in $(kubectl get pods -l app=web -o jsonpath='{.items[*].status.podIP}'); do
    "${DC[@]}" exec default/client --data-dir "$DIR" -- ping -c1 -W2 "$ip" | grep -E 'bytes from|loss'
done

section "interfaces"
"${DC[@]}" exec default/client --data-dir "$DIR" -- ip -4 addr show dev eth0
"${DC[@]}" exec node-1 --data-dir "$DIR" -- ip route

section "pod del"
"${DC[@]}" pod del default client --data-dir "$DIR"
kubectl get pods -o wide
