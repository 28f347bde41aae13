# calico-node image: build with Swift on Debian 12, run on debian:bookworm-slim.
#   docker build -t calico-node-swift .
#   docker build --build-arg SWIFT_IMAGE=swift:6.1-bookworm -t calico-node-swift .
ARG SWIFT_IMAGE=swift:6.0-bookworm

FROM ${SWIFT_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libnftnl-dev libmnl-dev libnl-route-3-dev libnl-3-dev libcurl4-openssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so that source edits do not invalidate the resolved-packages layer.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
# scripts/build-release.sh: static Swift runtime (no toolchain in the runtime image), and linked
# for a fast process start (no PIE, no exported symbols, static libstdc++/libgcc/libnl/libnftnl):
# the CNI plugin is exec'd for every pod (bench/cni.sh).
COPY scripts/build-release.sh ./scripts/
RUN install -D -m 0755 "$(CALICO_RELEASE_SCRATCH=.build bash scripts/build-release.sh)" /out/calico-node

FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libmnl0 libcurl4 ca-certificates \
      iproute2 nftables \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/calico-node /usr/bin/calico-node
# kubelet runs the CNI plugins by name; argv[0] selects the role.
RUN ln -s calico-node /usr/bin/calico \
 && ln -s calico-node /usr/bin/calico-ipam
ENTRYPOINT ["calico-node", "run"]
