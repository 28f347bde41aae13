/// crd.projectcalico.org/v1 BGPConfiguration: `default` holds the cluster-wide settings,
/// `node.<name>` overrides them for one node.
public typealias BGPConfiguration = SpecResource<BGPConfigurationKind, BGPConfigurationSpec>

public struct BGPConfigurationSpec: Codable, Sendable, Hashable {
    public struct CIDRBlock: Codable, Sendable, Hashable {
        public var cidr: String
        public init(cidr: String) { self.cidr = cidr }
    }

    public struct Community: Codable, Sendable, Hashable {
        public var name: String
        /// `aa:nn` or `aa:nn:mm` (large community).
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public struct PrefixAdvertisement: Codable, Sendable, Hashable {
        public var cidr: String
        /// Community names from `communities` or literal values.
        public var communities: [String]?
        public init(cidr: String, communities: [String]? = nil) {
            self.cidr = cidr
            self.communities = communities
        }
    }

    public var logSeverityScreen: String?
    /// True (the default when absent) for a full node-to-node mesh.
    public var nodeToNodeMeshEnabled: Bool?
    /// The default AS of nodes without their own (64512 when absent).
    public var asNumber: UInt32?
    public var listenPort: Int?
    public var bindMode: String?
    public var serviceClusterIPs: [CIDRBlock]?
    public var serviceExternalIPs: [CIDRBlock]?
    public var serviceLoadBalancerIPs: [CIDRBlock]?
    public var communities: [Community]?
    public var prefixAdvertisements: [PrefixAdvertisement]?
    public var nodeMeshPassword: SecretKeySource?
    /// A Go duration (`120s`) for graceful restart in the mesh.
    public var nodeMeshMaxRestartTime: String?
    public var ignoredInterfaces: [String]?
    public var localWorkloadPeeringIPV4: String?
    public var localWorkloadPeeringIPV6: String?

    public init(logSeverityScreen: String? = nil, nodeToNodeMeshEnabled: Bool? = nil, asNumber: UInt32? = nil,
                listenPort: Int? = nil, bindMode: String? = nil, serviceClusterIPs: [CIDRBlock]? = nil,
                serviceExternalIPs: [CIDRBlock]? = nil, serviceLoadBalancerIPs: [CIDRBlock]? = nil,
                communities: [Community]? = nil, prefixAdvertisements: [PrefixAdvertisement]? = nil,
                nodeMeshPassword: SecretKeySource? = nil, nodeMeshMaxRestartTime: String? = nil,
                ignoredInterfaces: [String]? = nil, localWorkloadPeeringIPV4: String? = nil,
                localWorkloadPeeringIPV6: String? = nil) {
        self.logSeverityScreen = logSeverityScreen
        self.nodeToNodeMeshEnabled = nodeToNodeMeshEnabled
        self.asNumber = asNumber
        self.listenPort = listenPort
        self.bindMode = bindMode
        self.serviceClusterIPs = serviceClusterIPs
        self.serviceExternalIPs = serviceExternalIPs
        self.serviceLoadBalancerIPs = serviceLoadBalancerIPs
        self.communities = communities
        self.prefixAdvertisements = prefixAdvertisements
        self.nodeMeshPassword = nodeMeshPassword
        self.nodeMeshMaxRestartTime = nodeMeshMaxRestartTime
        self.ignoredInterfaces = ignoredInterfaces
        self.localWorkloadPeeringIPV4 = localWorkloadPeeringIPV4
        self.localWorkloadPeeringIPV6 = localWorkloadPeeringIPV6
    }
}

/// crd.projectcalico.org/v1 BGPPeer: an explicit peering, for one node (`node`), the nodes a
/// selector picks (`nodeSelector`), or every node; with one address or the nodes `peerSelector` picks.
public typealias BGPPeer = SpecResource<BGPPeerKind, BGPPeerSpec>

public struct BGPPeerSpec: Codable, Sendable, Hashable {
    public var node: String?
    /// An address, optionally with a port (`10.0.0.1:1790`, `[fd00::1]:1790`).
    public var peerIP: String?
    public var asNumber: UInt32?
    public var nodeSelector: String?
    public var peerSelector: String?
    public var keepOriginalNextHop: Bool?
    public var password: SecretKeySource?
    /// `UseNodeIP` (default) or `None`.
    public var sourceAddress: String?
    public var maxRestartTime: String?
    public var numAllowedLocalASNumbers: Int?
    public var ttlSecurity: Int?
    public var keepaliveTime: String?
    public var reachableBy: String?
    public var filters: [String]?
    /// `Auto`, `Self` or `Keep`.
    public var nextHopMode: String?
    public var localWorkloadSelector: String?

    public init(node: String? = nil, peerIP: String? = nil, asNumber: UInt32? = nil, nodeSelector: String? = nil,
                peerSelector: String? = nil, keepOriginalNextHop: Bool? = nil, password: SecretKeySource? = nil,
                sourceAddress: String? = nil, maxRestartTime: String? = nil, numAllowedLocalASNumbers: Int? = nil,
                ttlSecurity: Int? = nil, keepaliveTime: String? = nil, reachableBy: String? = nil,
                filters: [String]? = nil, nextHopMode: String? = nil, localWorkloadSelector: String? = nil) {
        self.node = node
        self.peerIP = peerIP
        self.asNumber = asNumber
        self.nodeSelector = nodeSelector
        self.peerSelector = peerSelector
        self.keepOriginalNextHop = keepOriginalNextHop
        self.password = password
        self.sourceAddress = sourceAddress
        self.maxRestartTime = maxRestartTime
        self.numAllowedLocalASNumbers = numAllowedLocalASNumbers
        self.ttlSecurity = ttlSecurity
        self.keepaliveTime = keepaliveTime
        self.reachableBy = reachableBy
        self.filters = filters
        self.nextHopMode = nextHopMode
        self.localWorkloadSelector = localWorkloadSelector
    }
}
