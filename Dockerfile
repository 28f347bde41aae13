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
# A statically linked Swift runtime keeps the runtime image free of the toolchain. -no-pie: a
# position-dependent executable, as Go builds the reference CNI plugins, so the loader has no
# ~100k relative relocations to apply at every start of the CNI plugin (bench/cni.sh).
RUN swift build -c release --product calico-node --static-swift-stdlib -Xlinker -no-pie \
 && install -D -m 0755 "$(swift build -c release --show-bin-path)/calico-node" /out/calico-node

FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libnftnl11 libmnl0 libnl-route-3-200 libnl-3-200 libcurl4 libstdc++6 ca-certificates \
      iproute2 nftables \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/calico-node /usr/bin/calico-node
# kubelet runs the CNI plugins by name; argv[0] selects the role.
RUN ln -s calico-node /usr/bin/calico \
 && ln -s calico-node /usr/bin/calico-ipam
ENTRYPOINT ["calico-node", "run"]
