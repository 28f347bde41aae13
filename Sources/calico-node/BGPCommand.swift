import ArgumentParser
import Core
import Foundation
import Logging
import Prometheus
import Routing

struct BGPCommand: AsyncRunnable {
    static let configuration = CommandConfiguration(
        commandName: "bgp",
        abstract: "BGP speaker: node mesh, route reflectors and explicit peers.",
        discussion: """
        Reads the datastore variables (KUBECONFIG, K8S_*) and NODENAME (else the nodename file, else
        the host name). Peers come from Nodes (projectcalico.org/IPv4Address, IPv6Address, ASNumber,
        RouteReflectorClusterID), BGPConfiguration default and node.<name>, and BGPPeer resources;
        passwords from Secrets in CALICO_NAMESPACE (default kube-system). Learned routes go into the
        kernel with protocol 80. Health (component "bgp", GET /bgp/peers) on --health-address,
        metrics on --metrics-address. On SIGTERM or SIGINT it closes every session with an RFC 8203
        shutdown communication; with CALICO_BGP_GRACEFUL_RESTART=true it stops for an RFC 4724
        graceful restart instead (sessions closed without NOTIFICATION, peers keep our routes for
        the restart time, the stop recorded in CALICO_BGP_RESTART_STATE_FILE, default
        /var/run/calico/bgp-graceful-restart, so the next start sets the R bit). Kernel routes
        stay in place either way.
        """
    )

    @Option(help: "Where the node name is kept when NODENAME is unset.")
    var nodenameFile: String = NodeNameResolver.defaultFile

    @Option(help: "HOST:PORT of the health server (/readiness, /liveness, /bgp/peers).")
    var healthAddress: String = ObservabilityAddress.defaultHealth.description

    @Option(help: "HOST:PORT of the Prometheus metrics server, or 'none'.")
    var metricsAddress: String = ObservabilityAddress.defaultMetrics.description

    @Option(help: "Run BGP sockets and kernel routes inside this network namespace (e.g. /run/netns/NAME).")
    var netns: String?

    @Flag(help: "Do not program learned routes into the kernel.")
    var noKernelRoutes = false

    @Option(help: "Log level: Debug, Info, Warning, Error, None (default: BGP_LOGSEVERITYSCREEN or Info).")
    var logLevel: String?

    /// bench/bgp-convergence.sh: receive from this peer (no datastore) and time RIB and kernel.
    @Option(help: .hidden)
    var benchPeer: String?

    @Option(help: .hidden)
    var benchPeerAS: UInt32 = 65010

    @Option(help: .hidden)
    var benchCount: Int = 0

    func runAsync() async throws {
        if let benchPeer { return try await bench(peer: benchPeer) }
        let env = ProcessInfo.processInfo.environment
        LogBootstrap.bootstrap(calicoLevel: logLevel ?? env["BGP_LOGSEVERITYSCREEN"] ?? "Info")
        let logger = Logger(label: "calico.bgp")
        let nodeName = NodeNameResolver.resolve(environment: env["NODENAME"], file: nodenameFile,
                                                hostname: ProcessInfo.processInfo.hostName)
        let api = try KubeClient(connection: DatastoreConfig.load(environment: env))
        let health = HealthRegistry()
        let metrics = PrometheusCollectorRegistry()
        let servers = try await ObservabilityServers.start(
            health: health, metrics: metrics, healthAddress: try Self.address(healthAddress, "--health-address"),
            metricsAddress: metricsAddress == "none" ? nil : try Self.address(metricsAddress, "--metrics-address"))
        let metricsNote = servers.metricsServer.map { ", metrics on \($0.address)" } ?? ""
        logger.info("bgp for node \(nodeName); health on \(servers.healthServer.address)\(metricsNote)")
        let options = try BGPRoleOptions.fromEnvironment(env, networkNamespacePath: netns, programKernel: !noKernelRoutes)
        do {
            try await ProcessSignals.runUntilTerminated {
                try await BGPRole.run(api: api, nodeName: nodeName, options: options, health: health, metrics: metrics)
            }
        } catch {
            await servers.stop()
            throw error
        }
        logger.info("bgp stopped; kernel routes stay in place")
        await servers.stop()
    }

    /// Receives `benchCount` routes from `peer` as the role does (speaker, then kernel programmer)
    /// and prints `rib_s=… kernel_s=… base_kib=… peak_kib=…` (seconds from Established; peak: VmHWM).
    func bench(peer: String) async throws {
        guard let address = IPAddress(peer), benchCount > 0 else { throw ValidationError("--bench-peer needs an address and --bench-count") }
        LogBootstrap.bootstrap(calicoLevel: logLevel ?? "Warning")
        let base = Self.procStatus("VmRSS")
        var config = BGPSpeakerConfig(localAS: 64512, routerID: 0x0A00_0001, listenAddress: nil, families: [.ipv4Unicast],
                                      gracefulRestartSeconds: 0, networkNamespacePath: netns)
        config.publishLocRIBChanges = !noKernelRoutes
        let speaker = BGPSpeaker(config: config)
        let kernel = noKernelRoutes ? nil : try KernelRouteProgrammer(namespace: netns.map(NetNamespace.init(path:)))
        let feeding = Task { if let kernel { for await batch in speaker.locRIBChanges { await kernel.apply(batch) } } }
        try await speaker.addPeer(BGPPeerConfig(address: address, asn: benchPeerAS, connectRetrySeconds: 1))
        // Timed from the session's establishment.
        while await speaker.status().first?.state != .established { try await Task.sleep(nanoseconds: 5_000_000) }
        let start = Date()
        while await speaker.locRIBCount() < benchCount { try await Task.sleep(nanoseconds: 20_000_000) }
        let rib = Date().timeIntervalSince(start)
        if let kernel { while await kernel.installedCount() < benchCount { try await Task.sleep(nanoseconds: 20_000_000) } }
        let inKernel = Date().timeIntervalSince(start)
        print(String(format: "rib_s=%.3f kernel_s=%.3f base_kib=%d peak_kib=%d", rib, inKernel, base, Self.procStatus("VmHWM")))
        feeding.cancel()
        await speaker.shutdown()
    }

    static func procStatus(_ field: String) -> Int {
        let text = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix(field + ":") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    /// `HOST:PORT` or `[V6]:PORT`.
    static func address(_ text: String, _ option: String) throws -> ObservabilityAddress {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("\(option) must be HOST:PORT (e.g. 127.0.0.1:9099), not '\(text)'")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return ObservabilityAddress(host: host.isEmpty ? "127.0.0.1" : host, port: port)
    }
}
