/// core/v1 Node (named K8sNode: Yams owns `Node`): pod CIDRs for host-local IPAM, addresses for autodetection and BGP.
public struct K8sNode: KubeResource, Hashable {
    public static let resource = ResourceKind.node

    public var metadata: ObjectMeta
    public var spec: K8sNodeSpec?
    public var status: K8sNodeStatus?
    public var raw: JSONValue?

    enum CodingKeys: String, CodingKey { case metadata, spec, status }

    public init(metadata: ObjectMeta, spec: K8sNodeSpec? = nil, status: K8sNodeStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

public struct K8sNodeSpec: Codable, Sendable, Hashable {
    public var podCIDR: String?
    public var podCIDRs: [String]?

    public init(podCIDR: String? = nil, podCIDRs: [String]? = nil) {
        self.podCIDR = podCIDR
        self.podCIDRs = podCIDRs
    }
}

public struct K8sNodeStatus: Codable, Sendable, Hashable {
    public struct Address: Codable, Sendable, Hashable {
        /// `InternalIP`, `ExternalIP`, `Hostname`, ...
        public var type: String
        public var address: String

        public init(type: String, address: String) {
            self.type = type
            self.address = address
        }
    }

    public struct Condition: Codable, Sendable, Hashable {
        /// `Ready`, `NetworkUnavailable`, ...
        public var type: String
        /// `True`, `False` or `Unknown`.
        public var status: String
        public var reason: String?
        public var message: String?
        public var lastHeartbeatTime: String?
        public var lastTransitionTime: String?

        public init(type: String, status: String, reason: String? = nil, message: String? = nil,
                    lastHeartbeatTime: String? = nil, lastTransitionTime: String? = nil) {
            self.type = type
            self.status = status
            self.reason = reason
            self.message = message
            self.lastHeartbeatTime = lastHeartbeatTime
            self.lastTransitionTime = lastTransitionTime
        }
    }

    public var addresses: [Address]?
    public var conditions: [Condition]?

    public init(addresses: [Address]? = nil, conditions: [Condition]? = nil) {
        self.addresses = addresses
        self.conditions = conditions
    }
}
