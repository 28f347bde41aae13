import Foundation

/// What startup did, for its log and for `calico-node run`.
public struct StartupReport: Sendable, Equatable {
    public var nodeName: String
    public var ipv4: InetPrefix?
    public var ipv6: InetPrefix?
    public var createdPools: [String]
    public var createdClusterInformation: Bool
}

/// `calico-node startup`: resolves the node's name and addresses, waits for the API, then
/// registers the node (annotations, nodename file, default pools, ClusterInformation,
/// NetworkUnavailable). The host is reached only through the `host` closures, so tests can
/// give it interfaces as values.
public struct NodeStartup: Sendable {
    /// The host's view of the network: interfaces and can-reach's route lookup.
    public struct Host: Sendable {
        public var interfaces: @Sendable () throws(StartupError) -> [HostInterface]
        public var sourceAddress: @Sendable (String, InetAddress.Family) -> InetAddress?

        public init(interfaces: @escaping @Sendable () throws(StartupError) -> [HostInterface],
                    sourceAddress: @escaping @Sendable (String, InetAddress.Family) -> InetAddress?) {
            self.interfaces = interfaces
            self.sourceAddress = sourceAddress
        }

        /// The namespace this process runs in, through netlink and the socket layer.
        public static func live() -> Host {
            Host(interfaces: { () throws(StartupError) in
                let netlink: Netlink
                do { netlink = try Netlink() } catch { throw StartupError.hostNetwork("\(error)") }
                return try HostNetworkProbe.interfaces(netlink: netlink)
            }, sourceAddress: { HostNetworkProbe.sourceAddress(towards: $0, family: $1) })
        }
    }

    public var api: KubeAPI
    public var settings: StartupSettings
    public var nodeName: String
    public var nodenameFile: String
    public var host: Host
    public var wait: APIWait
    public var log: @Sendable (String) -> Void

    public init(api: KubeAPI, settings: StartupSettings, nodeName: String, nodenameFile: String = NodeNameResolver.defaultFile,
                host: Host = .live(), wait: APIWait = APIWait(), log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.api = api
        self.settings = settings
        self.nodeName = nodeName
        self.nodenameFile = nodenameFile
        self.host = host
        self.wait = wait
        self.log = log
    }

    public func run() async throws(StartupError) -> StartupReport {
        let name = nodeName
        let api = self.api
        log("node name \(name)")
        let node = try await register("reading Node \(name)") { () async throws(StartupError) in try await Self.node(api, name) }
        if settings.usePodCIDR, (node.spec?.podCIDR ?? "").isEmpty, (node.spec?.podCIDRs ?? []).isEmpty {
            throw .nodeWithoutPodCIDR(node: name)
        }

        let interfaces = try needsInterfaces ? host.interfaces() : []
        let internalIPs = (node.status?.addresses ?? []).filter { $0.type == "InternalIP" }.map(\.address)
        let ipv4 = try address(settings.ipv4, .ipv4, interfaces, internalIPs)
        let ipv6 = try address(settings.ipv6, .ipv6, interfaces, internalIPs)
        log("IPv4 address \(ipv4?.description ?? "none"), IPv6 address \(ipv6?.description ?? "none")")

        let settings = self.settings, file = nodenameFile, log = self.log
        let (pools, created) = try await register("registering Node \(name)") { () async throws(StartupError) in
            let registration = NodeRegistration(api: api)
            try await registration.annotate(node: name, patch: NodeRegistration.annotationPatch(ipv4: ipv4, ipv6: ipv6, settings: settings))
            try NodeNameResolver.write(name, to: file)
            let pools = try await registration.ensureDefaultPools(settings.defaultPools)
            for p in pools { log("created IPPool \(p)") }
            let created = try await registration.ensureClusterInformation(clusterType: settings.clusterType)
            if created { log("created ClusterInformation default") }
            if settings.networkingEnabled {
                let current = try await Self.node(api, name)
                try await registration.markNetworkAvailable(node: current)
            }
            return (pools, created)
        }
        log("startup complete for node \(name)")
        return StartupReport(nodeName: name, ipv4: ipv4, ipv6: ipv6, createdPools: pools, createdClusterInformation: created)
    }

    /// Runs `body` under the API wait: unreachable-API failures are retried with backoff.
    private func register<T: Sendable>(_ what: String, _ body: @escaping @Sendable () async throws(StartupError) -> T) async throws(StartupError) -> T {
        do {
            return try await wait.run(what, log: log) { try await body() }
        } catch let e as StartupError {
            throw e
        } catch {
            throw .apiFailure(operation: what, detail: "\(error)")
        }
    }

    private static func node(_ api: KubeAPI, _ name: String) async throws(StartupError) -> K8sNode {
        do { return try await api.get(K8sNode.self, name: name, namespace: nil) } catch {
            throw NodeRegistration.failure("reading Node \(name)", error, node: name)
        }
    }

    private var needsInterfaces: Bool {
        [settings.ipv4, settings.ipv6].contains { if case .none = $0 { return false } else { return true } }
    }

    private func address(_ setting: AddressSetting, _ family: InetAddress.Family, _ interfaces: [HostInterface],
                         _ internalIPs: [String]) throws(StartupError) -> InetPrefix? {
        switch setting {
        case .none: return nil
        case .fixed(let p):
            // A bare address takes the prefix length of the local interface holding it.
            return p.isHost ? AddressAutodetection.prefix(of: p.address, in: interfaces) : p
        case .autodetect(let method):
            var source: InetAddress?
            if case .canReach(let destination) = method { source = host.sourceAddress(destination, family) }
            return try AddressAutodetection.choose(method: method, family: family, interfaces: interfaces,
                                                   canReachSource: source, internalIPs: internalIPs)
        }
    }
}
