/// core/v1 Pod: what the CNI plugin, felix's workload endpoints and the harness use.
public struct Pod: KubeResource, Hashable {
    public static let resource = ResourceKind.pod

    public var metadata: ObjectMeta
    public var spec: PodSpec
    public var status: PodStatus?
    public var raw: JSONValue?

    enum CodingKeys: String, CodingKey { case metadata, spec, status }

    public init(metadata: ObjectMeta, spec: PodSpec = PodSpec(), status: PodStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// A missing spec (a watch bookmark) decodes as an empty one.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try c.decode(ObjectMeta.self, forKey: .metadata)
        spec = try c.decodeIfPresent(PodSpec.self, forKey: .spec) ?? PodSpec()
        status = try c.decodeIfPresent(PodStatus.self, forKey: .status)
    }
}

public struct PodSpec: Codable, Sendable, Hashable {
    public var nodeName: String?
    public var hostNetwork: Bool?
    public var serviceAccountName: String?
    public var containers: [Container]

    public init(nodeName: String? = nil, hostNetwork: Bool? = nil, serviceAccountName: String? = nil, containers: [Container] = []) {
        self.nodeName = nodeName
        self.hostNetwork = hostNetwork
        self.serviceAccountName = serviceAccountName
        self.containers = containers
    }

    enum CodingKeys: String, CodingKey { case nodeName, hostNetwork, serviceAccountName, containers }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nodeName = try c.decodeIfPresent(String.self, forKey: .nodeName)
        hostNetwork = try c.decodeIfPresent(Bool.self, forKey: .hostNetwork)
        serviceAccountName = try c.decodeIfPresent(String.self, forKey: .serviceAccountName)
        // The API always sends containers; tolerate their absence in hand-written objects.
        containers = try c.decodeIfPresent([Container].self, forKey: .containers) ?? []
    }
}

public struct Container: Codable, Sendable, Hashable {
    public var name: String
    public var image: String?
    public var ports: [ContainerPort]?

    public init(name: String, image: String? = nil, ports: [ContainerPort]? = nil) {
        self.name = name
        self.image = image
        self.ports = ports
    }
}

/// A container port; named ones are what Calico's named-port matching resolves.
public struct ContainerPort: Codable, Sendable, Hashable {
    public var name: String?
    public var containerPort: Int
    /// `TCP` (the default when absent), `UDP` or `SCTP`.
    public var `protocol`: String?
    public var hostPort: Int?

    public init(name: String? = nil, containerPort: Int, protocol: String? = nil, hostPort: Int? = nil) {
        self.name = name
        self.containerPort = containerPort
        self.protocol = `protocol`
        self.hostPort = hostPort
    }
}

public struct PodStatus: Codable, Sendable, Hashable {
    public struct PodIP: Codable, Sendable, Hashable {
        public var ip: String
        public init(ip: String) { self.ip = ip }
    }

    /// `Pending`, `Running`, `Succeeded`, `Failed` or `Unknown`.
    public var phase: String?
    public var podIP: String?
    public var podIPs: [PodIP]?
    public var hostIP: String?

    public init(phase: String? = nil, podIP: String? = nil, podIPs: [PodIP]? = nil, hostIP: String? = nil) {
        self.phase = phase
        self.podIP = podIP
        self.podIPs = podIPs
        self.hostIP = hostIP
    }
}
