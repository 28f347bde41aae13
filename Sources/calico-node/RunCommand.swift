import ArgumentParser
import Core
import Foundation
import Logging
import Policy
import Prometheus
import Routing

/// The container entrypoint: startup, then felix and/or the BGP speaker in this one process,
/// sharing one API client and one health and one metrics server. SIGTERM cancels the roles:
/// BGP closes its sessions with a shutdown communication, felix leaves the dataplane as is.
struct RunCommand: AsyncRunnable {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Container entrypoint: startup, then the roles chosen by flags.",
        discussion: """
        With neither --felix nor --bgp, felix runs, and BGP too unless CALICO_NETWORKING_BACKEND=none
        (policy-only). Reads everything `startup`, `felix` and `bgp` read; health on
        FELIX_HEALTHHOST:FELIX_HEALTHPORT (127.0.0.1:9099), metrics on FELIX_PROMETHEUSMETRICSHOST:
        FELIX_PROMETHEUSMETRICSPORT (127.0.0.1:9091). CALICO_DISABLE_FILE_LOGGING is accepted and
        ignored: calico-node logs to stderr only. The CNI plugins' API socket (--cni-api-socket,
        CALICO_CNI_API_SOCKET, default /var/run/calico/cni-api.sock) is served unless --no-cni-api.
        """
    )

    @Flag(help: "Run the felix policy engine.")
    var felix = false

    @Flag(help: "Run the BGP speaker.")
    var bgp = false

    @Flag(name: .customLong("no-cni-api"), help: "Do not serve the CNI plugins' API socket (they then use the API directly).")
    var noCNIAPI = false

    @OptionGroup var cniAPI: CNIAPIOptions

    @OptionGroup var startup: StartupOptions

    /// The roles to run: the flags, else felix plus BGP unless the backend is `none`.
    static func roles(felix: Bool, bgp: Bool, environment: [String: String]) -> (felix: Bool, bgp: Bool) {
        if felix || bgp { return (felix, bgp) }
        let backend = environment["CALICO_NETWORKING_BACKEND"]?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        return (true, backend != "none")
    }

    func runAsync() async throws {
        let env = ProcessInfo.processInfo.environment
        _ = env["CALICO_DISABLE_FILE_LOGGING"]  // accepted for Calico manifests; we never log to files
        let envConfig = FelixConfigLayering.resolve(environment: env).config
        LogBootstrap.bootstrap(calicoLevel: envConfig.logSeverityScreen)
        let logger = Logger(label: "calico.node")
        let roles = Self.roles(felix: felix, bgp: bgp, environment: env)
        let api = try KubeClient(connection: DatastoreConfig.load(environment: env))
        let startup = self.startup
        let cniSocket = noCNIAPI ? nil : cniAPI.path(environment: env)

        try await ProcessSignals.runUntilTerminated {
            // First, so that pods start through it while startup waits for the API.
            let cniProxy = if let cniSocket { await CNIAPIOptions.serve(path: cniSocket, api: api, logger: logger, node: cniAPI.nodeName(environment: env)) } else { AgentAPIProxy?.none }
            do {
                try await Self.runRoles(api: api, startup: startup, roles: roles, environment: env, logger: logger)
            } catch {
                await cniProxy?.stop()
                throw error
            }
            await cniProxy?.stop()
        }
        logger.info("calico-node stopped")
    }

    /// Startup, then the roles until one ends or the task is cancelled.
    private static func runRoles(api: KubeClient, startup: StartupOptions, roles: (felix: Bool, bgp: Bool),
                                 environment env: [String: String], logger: Logger) async throws {
        let report: StartupReport
        do {
            report = try await startup.runStartup(api: api)
        } catch where Task.isCancelled {
            logger.info("stopped before startup completed")
            return
        }
        let nodeName = report.nodeName
        let (config, issues) = await FelixRole.initialConfig(api: api, nodeName: nodeName, environment: env)
        for issue in issues { logger.warning("\(issue)") }
        let health = HealthRegistry()
        let metrics = PrometheusCollectorRegistry()
        let servers = try await ObservabilityServers.start(health: health, metrics: metrics, config: config)
        let names = [roles.felix ? "felix" : nil, roles.bgp ? "bgp" : nil].compactMap { $0 }.joined(separator: " and ")
        logger.info("running \(names) for node \(nodeName); health on \(servers.healthServer.address)")
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                if roles.felix {
                    group.addTask {
                        try await FelixRole.run(api: api, nodeName: nodeName, environment: env, health: health, metrics: metrics,
                                                logger: Logger(label: "calico.felix"))
                    }
                }
                if roles.bgp {
                    let options = try BGPRoleOptions.fromEnvironment(env)
                    group.addTask { try await BGPRole.run(api: api, nodeName: nodeName, options: options, health: health, metrics: metrics) }
                }
                // One role failing stops the other: the container restarts as a whole.
                try await group.next()
                group.cancelAll()
                try await group.waitForAll()
            }
        } catch {
            await servers.stop()
            throw error
        }
        await servers.stop()
    }
}
