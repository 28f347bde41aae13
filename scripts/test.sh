#!/usr/bin/env bash
# The one test command: installs what is missing (Debian 12, as root), builds every product so the
# integration tests find the executables, then runs every test. Safe to run again and again.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

section() { printf '\n==== %s ====\n' "$*"; }
die() { printf 'test.sh: %s\n' "$*" >&2; exit 1; }

# Build-time libraries, and the tools the integration tests drive (nft, ip, ping, bird, gobgp,
# the reference CNI plugins, openssl for certificates, a netcat for raw sockets, nghttpd as an HTTP/2 server).
PACKAGES=(
    libnftnl-dev libmnl-dev libnl-route-3-dev libnl-3-dev libcurl4-openssl-dev pkg-config
    nftables iproute2 iputils-ping bird2 gobgpd containernetworking-plugins openssl frr curl ncat nghttp2-server
)

installed() { dpkg -s "$1" >/dev/null 2>&1; }

section "System packages"
missing=()
for package in "${PACKAGES[@]}"; do
    installed "$package" || missing+=("$package")
done
# Either netcat will do; ncat is preferred.
if ! installed ncat && ! installed netcat-openbsd; then
    missing+=(ncat)
fi
if ((${#missing[@]} == 0)); then
    echo "all present"
else
    echo "installing: ${missing[*]}"
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || die "packages missing (${missing[*]}) and not root: run as root or install them"
        SUDO=sudo
    else
        SUDO=
    fi
    $SUDO apt-get update
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

section "Tools"
command -v swift >/dev/null || die "swift is not on PATH: install a Swift 6 toolchain (https://swift.org/install)"
command -v kubectl >/dev/null || die "kubectl is not on PATH: install kubectl (the demo and integration tests use it)"
swift --version 2>&1 | head -n 1
echo "kubectl: $(kubectl version --client 2>/dev/null | head -n 1)"

section "swift build"
swift build

section "swift test"
# A hung test must not hang CI forever: after TEST_TIMEOUT seconds (0: no limit) the whole
# process tree of `swift test` (the xctest runner and the servers it started) is stopped.
TEST_TIMEOUT=${TEST_TIMEOUT:-2400}
kill_tree() {
    local child
    for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$child"; done
    kill "$1" 2>/dev/null || true
}
# Line-buffered, so a log shows every test as it starts, even one that later hangs.
LINEBUF=()
command -v stdbuf >/dev/null && LINEBUF=(stdbuf -oL -eL)
# Every test is XCTest; without Swift Testing the run closes on XCTest's own summary.
log=$(mktemp /tmp/calico-node-tests.XXXXXX)
"${LINEBUF[@]}" swift test --disable-swift-testing "$@" >"$log" 2>&1 &
test_pid=$!
tail -n +1 -f --pid="$test_pid" "$log" &
tail_pid=$!
trap 'kill_tree "$test_pid"' INT TERM
watchdog_pid=
if ((TEST_TIMEOUT > 0)); then
    (
        sleep "$TEST_TIMEOUT"
        echo "test.sh: swift test still running after ${TEST_TIMEOUT}s (TEST_TIMEOUT); stopping it" >&2
        kill_tree "$test_pid"
    ) &
    watchdog_pid=$!
fi
status=0
wait "$test_pid" || status=$?
[[ -n $watchdog_pid ]] && kill_tree "$watchdog_pid"
wait "$tail_pid" 2>/dev/null || true

section "Result"
if ((status == 0)); then
    echo "all tests passed"
else
    echo "tests FAILED (exit $status)"
fi
# The count last, as the run's closing line.
summary=$(grep -E 'Executed [0-9]+ tests?, with [0-9]+ failures?' "$log" | tail -n 1 || true)
rm -f "$log"
if [[ $summary =~ Executed\ ([0-9]+)\ tests?,\ with\ ([0-9]+)\ failure ]]; then
    total=${BASH_REMATCH[1]} failed=${BASH_REMATCH[2]}
    echo "tests: $((total - failed)) passed, $failed failed"
fi
exit "$status"
