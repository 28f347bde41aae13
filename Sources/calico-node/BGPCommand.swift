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
        metrics on --metrics-address. Stops on SIGTERM or SIGINT, closing every session with an
        RFC 8203 shutdown communication and leaving the kernel routes in place.
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

    func runAsync() async throws {
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
        let options = BGPRoleOptions(networkNamespacePath: netns, programKernel: !noKernelRoutes,
                                     secretNamespace: env["CALICO_NAMESPACE"].flatMap { $0.isEmpty ? nil : $0 } ?? "kube-system")
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
