import ArgumentParser
import Core
import Foundation
import Logging
import Policy
import Prometheus

struct FelixCommand: AsyncRunnable {
    static let configuration = CommandConfiguration(
        commandName: "felix",
        abstract: "Policy engine: NetworkPolicy and Calico policy into nftables.",
        discussion: """
        Reads the datastore variables (KUBECONFIG, K8S_*), NODENAME (else the nodename file, else the
        host name) and FELIX_* settings, which override FelixConfiguration node.<name>, which
        overrides FelixConfiguration default. Health on FELIX_HEALTHHOST:FELIX_HEALTHPORT
        (127.0.0.1:9099), metrics on FELIX_PROMETHEUSMETRICSHOST:FELIX_PROMETHEUSMETRICSPORT
        (127.0.0.1:9091). Stops on SIGTERM or SIGINT and leaves the dataplane programmed.
        """
    )

    @Option(help: "Where the node name is kept when NODENAME is unset.")
    var nodenameFile: String = NodeNameResolver.defaultFile

    func runAsync() async throws {
        let env = ProcessInfo.processInfo.environment
        let envConfig = FelixConfigLayering.resolve(environment: env).config
        LogBootstrap.bootstrap(calicoLevel: envConfig.logSeverityScreen)
        let logger = Logger(label: "calico.felix")
        let nodeName = NodeNameResolver.resolve(environment: env["NODENAME"], file: nodenameFile,
                                                hostname: ProcessInfo.processInfo.hostName)
        let api = try KubeClient(connection: DatastoreConfig.load(environment: env))
        let (config, issues) = await FelixRole.initialConfig(api: api, nodeName: nodeName, environment: env)
        for issue in issues { logger.warning("\(issue)") }

        let health = HealthRegistry()
        let metrics = PrometheusCollectorRegistry()
        let servers = try await ObservabilityServers.start(health: health, metrics: metrics, config: config)
        let metricsNote = servers.metricsServer.map { ", metrics on \($0.address)" } ?? ""
        logger.info("felix for node \(nodeName); health on \(servers.healthServer.address)\(metricsNote)")
        defer { Task { await servers.stop() } }
        try await ProcessSignals.runUntilTerminated {
            try await FelixRole.run(api: api, nodeName: nodeName, environment: env, health: health, metrics: metrics, logger: logger)
        }
        logger.info("felix stopped; the dataplane stays as programmed")
        await servers.stop()
    }
}
