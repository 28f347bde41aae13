/// crd.projectcalico.org/v1 FelixConfiguration: `default` for the cluster, `node.<name>` per
/// node. Only the settings this agent acts on are typed; every other one survives in `raw`
/// (and `setting(_:)` reads any of them by name).
public typealias FelixConfiguration = SpecResource<FelixConfigurationKind, FelixConfigurationSpec>

extension FelixConfiguration {
    /// Any spec field as the server sent it, typed or not (`"bpfEnabled"`, `"wireguardEnabled"`).
    public func setting(_ name: String) -> JSONValue? { raw?["spec"]?[name] }
}

public struct FelixConfigurationSpec: Codable, Sendable, Hashable {
    /// A protocol/port (and optional net) felix always lets through to or from the host.
    public struct ProtoPort: Codable, Sendable, Hashable {
        public var `protocol`: String
        public var port: Int
        public var net: String?

        public init(protocol: String, port: Int, net: String? = nil) {
            self.protocol = `protocol`
            self.port = port
            self.net = net
        }
    }

    public var logSeverityScreen: String?
    public var logSeverityFile: String?
    public var reportingInterval: String?
    public var healthEnabled: Bool?
    public var healthHost: String?
    public var healthPort: Int?
    public var prometheusMetricsEnabled: Bool?
    public var prometheusMetricsPort: Int?
    public var ipipEnabled: Bool?
    public var ipipMTU: Int?
    public var vxlanEnabled: Bool?
    public var vxlanMTU: Int?
    public var vxlanPort: Int?
    public var vxlanVNI: Int?
    public var wireguardEnabled: Bool?
    /// `Drop` (default), `Accept` or `Return`.
    public var defaultEndpointToHostAction: String?
    public var interfacePrefix: String?
    public var interfaceExclude: String?
    /// `Insert` (default) or `Append`.
    public var chainInsertMode: String?
    public var failsafeInboundHostPorts: [ProtoPort]?
    public var failsafeOutboundHostPorts: [ProtoPort]?
    /// Go durations (`90s`).
    public var iptablesRefreshInterval: String?
    public var routeRefreshInterval: String?
    public var ipsetsRefreshInterval: String?
    public var removeExternalRoutes: Bool?
    public var ipv6Support: Bool?
    public var natOutgoingAddress: String?
    public var deviceRouteSourceAddress: String?
    public var mtuIfacePattern: String?
    public var nftablesMode: String?
    public var bpfEnabled: Bool?
    public var usageReportingEnabled: Bool?
    public var endpointReportingEnabled: Bool?
    public var allowVXLANPacketsFromWorkloads: Bool?
    public var allowIPIPPacketsFromWorkloads: Bool?
    public var serviceLoopPrevention: String?

    public init() {}
}
