import Core
import Foundation
import Logging
import Prometheus

/// The felix role as `calico-node felix` and `calico-node run --felix` start it.
public enum FelixRole {
    /// The layered configuration before the watch starts (to place the health and metrics
    /// servers): `default` and `node.<name>` FelixConfigurations read once, plus the environment.
    public static func initialConfig(api: any KubeAPI, nodeName: String, environment: [String: String])
        async -> (config: FelixConfig, issues: [FelixConfigIssue]) {
        let global = try? await api.get(FelixConfiguration.self, name: "default", namespace: nil)
        let node = try? await api.get(FelixConfiguration.self, name: "node.\(nodeName)", namespace: nil)
        return FelixConfigLayering.resolve(global: FelixConfigLayering.layer(global), node: FelixConfigLayering.layer(node),
                                           environment: environment)
    }

    /// Runs felix until the task is cancelled: watches the datastore, programs nftables table
    /// `calico` and the local endpoints' routes and sysctls in `namespace` (nil: this process's),
    /// and reports into `health` (component "felix") and `metrics`. On cancellation it returns
    /// and leaves the dataplane as programmed.
    public static func run(api: any KubeAPI, nodeName: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                           health: HealthRegistry, metrics: PrometheusCollectorRegistry, namespace: NetNamespace? = nil,
                           logger: Logger = Logger(label: "calico.felix")) async throws {
        let engine = FelixEngine(nodeName: nodeName, environment: environment)
        for issue in engine.configIssues { logger.warning("\(issue)") }
        let programmer = try NFTProgrammer(namespace: namespace)
        let endpoints = try EndpointManager(namespace: namespace, ipv6: engine.config.ipv6Support, logger: logger)
        let daemon = FelixDaemon(engine: engine, dataplane: programmer, endpoints: endpoints, health: health,
                                 metrics: FelixMetrics(registry: metrics), logger: logger)
        try await run(daemon: daemon, api: api, nodeName: nodeName, namespace: namespace, logger: logger)
    }

    /// Drives an already built daemon (tests use this with fakes).
    public static func run(daemon: FelixDaemon, api: any KubeAPI, nodeName: String, namespace: NetNamespace? = nil,
                           watchLinks: Bool = true, logger: Logger = Logger(label: "calico.felix")) async throws {
        let linkMonitor = watchLinks ? try LinkMonitor(in: namespace) : nil
        defer { linkMonitor?.stop() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            let feeds = FelixFeeds(api: api, daemon: daemon, logger: logger)
            feeds.start(in: &group)
            if let linkMonitor {
                group.addTask {
                    for await event in linkMonitor.events { await daemon.linkChanged(event.link.name) }
                }
            }
            group.addTask {
                // Liveness heartbeat and the periodic refresh of nftables and routes.
                var sinceRefresh = 0.0
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(5))
                    await daemon.heartbeat()
                    sinceRefresh += 5
                    let interval = await daemon.config.nftablesRefreshInterval
                    if interval > 0, sinceRefresh >= interval {
                        sinceRefresh = 0
                        await daemon.refresh()
                    }
                }
            }
            do {
                try await group.next()
            } catch is CancellationError {
                // Shutting down.
            } catch {
                await daemon.stopped(reason: "\(error)")
                throw error
            }
            group.cancelAll()
            await daemon.stopped(reason: "stopped")
        }
    }
}

/// One reflector per watched kind, each feeding the daemon.
struct FelixFeeds: Sendable {
    let api: any KubeAPI
    let daemon: FelixDaemon
    let logger: Logger

    func start(in group: inout ThrowingTaskGroup<Void, Error>) {
        feed(Pod.self, "pods", &group, { .pod($0) }, { .podDeleted(namespace: $0.metadata.namespace ?? "default", name: $0.metadata.name) })
        feed(Namespace.self, "namespaces", &group, { .namespace($0) }, { .namespaceDeleted(name: $0.metadata.name) })
        feed(ServiceAccount.self, "serviceaccounts", &group, { .serviceAccount($0) },
             { .serviceAccountDeleted(namespace: $0.metadata.namespace ?? "default", name: $0.metadata.name) })
        feed(K8sNetworkPolicy.self, "networkpolicies", &group, { .k8sPolicy($0) },
             { .k8sPolicyDeleted(namespace: $0.metadata.namespace ?? "default", name: $0.metadata.name) })
        feed(CalicoNetworkPolicy.self, "calico-networkpolicies", &group, { .calicoPolicy($0) },
             { .calicoPolicyDeleted(namespace: $0.metadata.namespace ?? "default", name: $0.metadata.name) })
        feed(GlobalNetworkPolicy.self, "globalnetworkpolicies", &group, { .globalPolicy($0) }, { .globalPolicyDeleted(name: $0.metadata.name) })
        feed(NetworkSet.self, "networksets", &group, { .networkSet($0) },
             { .networkSetDeleted(namespace: $0.metadata.namespace ?? "default", name: $0.metadata.name) })
        feed(GlobalNetworkSet.self, "globalnetworksets", &group, { .globalNetworkSet($0) }, { .globalNetworkSetDeleted(name: $0.metadata.name) })
        feed(FelixConfiguration.self, "felixconfigurations", &group, { .felixConfiguration($0) },
             { .felixConfigurationDeleted(name: $0.metadata.name) })
    }

    private func feed<T: KubeResource>(_ type: T.Type, _ kind: String, _ group: inout ThrowingTaskGroup<Void, Error>,
                                       _ upsert: @escaping @Sendable (T) -> FelixUpdate,
                                       _ deleted: @escaping @Sendable (T) -> FelixUpdate) {
        let api = self.api, daemon = self.daemon, logger = self.logger
        group.addTask {
            let reflector = Reflector<T>(api: api, logger: logger)
            let events = await reflector.events()
            await reflector.start()
            await withTaskCancellationHandler {
                for await event in events {
                    if case .synced = event {
                        await daemon.synced(kind)
                    } else if let update = FelixUpdate.from(event, upsert, deleted) {
                        await daemon.receive(update)
                    }
                }
            } onCancel: {
                Task { await reflector.stop() }
            }
            await reflector.stop()
        }
    }
}
