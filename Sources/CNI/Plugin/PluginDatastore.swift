import Core
import Foundation

/// The Kubernetes API for the plugin, made on first use (an ADD that needs neither a Node nor
/// a Pod never connects): through the calico-node agent's unix socket when an agent serves it
/// (CALICO_CNI_API_SOCKET, default /var/run/calico/cni-api.sock: no libcurl, no TLS), else
/// directly with the config's `kubernetes.kubeconfig` and `kubernetes.k8s_api_root` when set,
/// or the datastore environment (KUBECONFIG, K8S_*), as every role reads it. The choice is
/// made once, at the first use, so a restarting agent only sends pods the direct way.
final class PluginDatastore: @unchecked Sendable {
    private let config: NetworkConfig
    private let environment: [String: String]
    private let lock = NSLock()
    private var client: (any KubeAPI)?
    private let make: @Sendable (ClusterConnection) throws -> any KubeAPI

    init(config: NetworkConfig, environment: [String: String],
         make: @escaping @Sendable (ClusterConnection) throws -> any KubeAPI = { try KubeClient(connection: $0, options: PluginDatastore.clientOptions) }) {
        self.config = config
        self.environment = environment
        self.make = make
    }

    /// One connection for the whole invocation: its parallel requests (the Pod patch beside
    /// calico-ipam's reads and writes) queue for it rather than each paying for a TLS
    /// handshake, which costs more CPU than the wait on a loaded node.
    static let clientOptions = KubeClientOptions(connectTimeout: 5, requestTimeout: 20, maxConnections: 1)

    /// An already-made API (tests, or a caller that has one).
    init(config: NetworkConfig, api: any KubeAPI) {
        self.config = config
        self.environment = [:]
        self.client = api
        self.make = { _ in api }
    }

    /// The environment DatastoreConfig reads, with the network config's settings laid over it.
    static func datastoreEnvironment(_ config: NetworkConfig, _ environment: [String: String]) -> [String: String] {
        var env = environment
        if let k = config.kubernetes.kubeconfig, !k.isEmpty { env["KUBECONFIG"] = k }
        if let root = config.kubernetes.k8sAPIRoot ?? config.policy.k8sAPIRoot, !root.isEmpty { env["K8S_API_ENDPOINT"] = root }
        return env
    }

    func api() throws -> any KubeAPI {
        try lock.withLock {
            if let client { return client }
            if let socket = AgentSocket.choose(environment: environment) {
                let c = KubeClient.viaAgentSocket(socket, options: Self.clientOptions)
                client = c
                return c
            }
            let connection: ClusterConnection
            do {
                connection = try DatastoreConfig.load(environment: Self.datastoreEnvironment(config, environment))
            } catch {
                throw CNIError(.invalidNetworkConfig,
                               "cannot configure the Kubernetes API: \(error); set kubernetes.kubeconfig in the network config or KUBECONFIG")
            }
            let c = try make(connection)
            client = c
            return c
        }
    }

    /// Makes the client (kubeconfig read, libcurl loaded, its loop thread started) on a thread
    /// of its own, so that the first request finds it made. A failure is not kept: the first
    /// caller of `api()` makes it again and gets the error.
    func warmUp() {
        Thread.detachNewThread { [self] in _ = try? api() }
    }

    /// For the timing report (CALICO_CNI_TIMING=1): which way the API was reached and how many
    /// connections that took; nil when the API was not used.
    func usage() -> String? {
        guard let client = lock.withLock({ client }) as? KubeClient else { return nil }
        return client.viaAgent ? "api via the agent socket: \(client.connectionsOpened) connections, 0 direct"
                               : "api direct: \(client.connectionsOpened) connections"
    }

    /// Which cluster the configuration points at, without reading it: K8S_API_ENDPOINT or the
    /// kubeconfig's path (parsing the kubeconfig costs milliseconds the usePodCidr cache is
    /// there to save; the cache is confirmed against the Node anyway).
    func clusterKey() -> String {
        let env = Self.datastoreEnvironment(config, environment)
        return env["K8S_API_ENDPOINT"] ?? env["KUBECONFIG"] ?? "in-cluster"
    }
}
