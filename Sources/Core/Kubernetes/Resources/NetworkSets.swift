/// crd.projectcalico.org/v1 NetworkSet: named, labelled CIDRs within one namespace that
/// policy selectors can match.
public typealias NetworkSet = SpecResource<NetworkSetKind, NetworkSetSpec>

/// crd.projectcalico.org/v1 GlobalNetworkSet: the cluster-wide NetworkSet.
public typealias GlobalNetworkSet = SpecResource<GlobalNetworkSetKind, NetworkSetSpec>

public struct NetworkSetSpec: Codable, Sendable, Hashable {
    public var nets: [String]?

    public init(nets: [String]? = nil) { self.nets = nets }
}

/// crd.projectcalico.org/v1 HostEndpoint: a host interface (or all of a host's, with
/// interfaceName `*`) that policy can protect.
public typealias HostEndpoint = SpecResource<HostEndpointKind, HostEndpointSpec>

public struct HostEndpointSpec: Codable, Sendable, Hashable {
    /// A named port on the endpoint that policy rules can refer to by name.
    public struct EndpointPort: Codable, Sendable, Hashable {
        public var name: String
        public var `protocol`: IntOrString
        public var port: Int

        public init(name: String, protocol: IntOrString, port: Int) {
            self.name = name
            self.protocol = `protocol`
            self.port = port
        }
    }

    public var node: String?
    public var interfaceName: String?
    public var expectedIPs: [String]?
    public var profiles: [String]?
    public var ports: [EndpointPort]?

    public init(node: String? = nil, interfaceName: String? = nil, expectedIPs: [String]? = nil,
                profiles: [String]? = nil, ports: [EndpointPort]? = nil) {
        self.node = node
        self.interfaceName = interfaceName
        self.expectedIPs = expectedIPs
        self.profiles = profiles
        self.ports = ports
    }
}
