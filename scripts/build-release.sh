#!/usr/bin/env bash
# The shipped build of calico-node (Dockerfile, bench/cni.sh): release, and linked so that a
# process starts as fast as Go's statically linked reference CNI plugins. Every pod start execs
# the plugin two to four times (calico, calico-ipam; ADD and DEL), so start-up is per-pod cost.
#   --static-swift-stdlib       the Swift runtime and Foundation inside the binary
#   -no-pie                     no relative relocations for the loader to apply at each start
#   --no-export-dynamic         the static stdlib exports every symbol (22k) and the runtime's
#                               backtracer calls dladdr over them in a constructor (~1 ms a start)
#   static libstdc++, libgcc    loading libstdc++.so and binding its symbols cost ~2.5 ms a start
#   static libnl-3, libnl-route-3, libnftnl (when their .a is installed): ~0.6 ms a start
# libcurl stays dynamic and is loaded on first use (Core/Kubernetes/HTTP/LibCurl.swift).
# Licences: libnl is LGPL-2.1 and libnftnl GPL-2.0+; linking them statically keeps their terms
# (this build is reproducible from public sources, so the binary can be relinked against others).
# The static C libraries are selected with linker scripts named like the shared libraries in a
# directory that comes first in the search path (through pkg-config files for the system
# library target, whose -L flags precede the toolchain's), so no source or Package.swift change.
# Prints the binary's path. Scratch directory: $CALICO_RELEASE_SCRATCH (default .build-release).
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH="${CALICO_RELEASE_SCRATCH:-.build-release}"
mkdir -p "$SCRATCH"
LINKDIR="$(cd "$SCRATCH" && pwd)/static-link"
rm -rf "$LINKDIR"
mkdir -p "$LINKDIR/pkgconfig"

CC="$(dirname "$(readlink -f "$(command -v swift)")")/clang"
[[ -x "$CC" ]] || CC="$(command -v clang || command -v gcc)"
static_archive() { # $1 library name, $2 directory or "" for the compiler's own
    local path
    if [[ -n "$2" ]]; then path="$2/lib$1.a"; else path="$("$CC" -print-file-name="lib$1.a")"; fi
    [[ -f "$path" ]] && echo "$path"
    return 0
}
LIBDIR="$(pkg-config --variable=libdir libnftnl)"
for spec in "stdc++:" "nftnl:$LIBDIR" "nl-route-3:$LIBDIR" "nl-3:$LIBDIR"; do
    name="${spec%%:*}"
    archive="$(static_archive "$name" "${spec#*:}")"
    if [[ -n "$archive" ]]; then
        echo "INPUT($archive)" > "$LINKDIR/lib$name.so"
    else
        echo "build-release: no lib$name.a, linking it dynamically" >&2
    fi
done
# The system library target's packages, with the same compiler flags and our directory first.
for pc in libnftnl libmnl libnl-route-3.0; do
    printf 'Name: %s\nDescription: %s for a static link\nVersion: %s\nLibs: -L%s\nCflags: %s\n' \
        "$pc" "$pc" "$(pkg-config --modversion "$pc")" "$LINKDIR" "$(pkg-config --cflags "$pc")" \
        > "$LINKDIR/pkgconfig/$pc.pc"
done

PKG_CONFIG_PATH="$LINKDIR/pkgconfig" swift build -c release --product calico-node --scratch-path "$SCRATCH" \
    --static-swift-stdlib -Xlinker -no-pie -Xlinker --no-export-dynamic \
    -Xswiftc -Xclang-linker -Xswiftc -static-libgcc "$@" >&2
BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/calico-node"
if readelf -d "$BIN" | grep -q 'NEEDED.*libstdc++'; then
    echo "build-release: $BIN still needs libstdc++.so (the static link did not take)" >&2
    exit 1
fi
echo "$BIN"
