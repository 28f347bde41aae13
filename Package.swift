// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "calico-node",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "calico-node", targets: ["calico-node"]),
        .executable(name: "calico-devcluster", targets: ["DevCluster"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
    ],
    targets: [
        .systemLibrary(
            // SwiftNIO's dependency swift-system already owns the module name `CSystem`, and module
            // names are global to a package graph, so the target in Sources/CSystem is CCalicoSystem.
            name: "CCalicoSystem",
            path: "Sources/CSystem",
            pkgConfig: "libnftnl libmnl libnl-route-3.0",
            providers: [.apt(["libnftnl-dev", "libmnl-dev", "libnl-route-3-dev", "libcurl4-openssl-dev"])]
        ),
        .target(
            name: "Core",
            dependencies: [
                "CCalicoSystem",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .target(name: "IPAM", dependencies: ["Core"]),
        .target(name: "CNI", dependencies: ["Core", "IPAM"]),
        .target(name: "Policy", dependencies: ["Core"]),
        .target(name: "Routing", dependencies: ["Core"]),
        .executableTarget(
            name: "calico-node",
            dependencies: [
                "Core", "IPAM", "CNI", "Policy", "Routing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "DevCluster",
            dependencies: [
                "Core",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
            ]
        ),
        .testTarget(name: "CoreTests", dependencies: ["Core"]),
        .testTarget(name: "IPAMTests", dependencies: ["IPAM"]),
        .testTarget(name: "CNITests", dependencies: ["CNI"]),
        .testTarget(name: "PolicyTests", dependencies: ["Policy"]),
        .testTarget(name: "RoutingTests", dependencies: ["Routing"]),
        .testTarget(name: "DevClusterTests", dependencies: ["DevCluster", "Core"]),
        .testTarget(name: "IntegrationTests", dependencies: ["Core", "IPAM", "CNI", "Routing", "Policy"]),
    ]
)
