/// networking.k8s.io/v1 NetworkPolicy, which felix converts to Calico policy `knp.default.<name>`.
public typealias K8sNetworkPolicy = SpecResource<K8sNetworkPolicyKind, K8sNetworkPolicySpec>

public struct K8sNetworkPolicySpec: Codable, Sendable, Hashable {
    /// The pods the policy applies to; empty selects every pod in the namespace.
    public var podSelector: LabelSelector
    /// `Ingress` and/or `Egress`; when absent the API defaults it from which rule lists exist.
    public var policyTypes: [String]?
    public var ingress: [IngressRule]?
    public var egress: [EgressRule]?

    public init(podSelector: LabelSelector = LabelSelector(), policyTypes: [String]? = nil,
                ingress: [IngressRule]? = nil, egress: [EgressRule]? = nil) {
        self.podSelector = podSelector
        self.policyTypes = policyTypes
        self.ingress = ingress
        self.egress = egress
    }

    enum CodingKeys: String, CodingKey { case podSelector, policyTypes, ingress, egress }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        podSelector = try c.decodeIfPresent(LabelSelector.self, forKey: .podSelector) ?? LabelSelector()
        policyTypes = try c.decodeIfPresent([String].self, forKey: .policyTypes)
        ingress = try c.decodeIfPresent([IngressRule].self, forKey: .ingress)
        egress = try c.decodeIfPresent([EgressRule].self, forKey: .egress)
    }

    public struct IngressRule: Codable, Sendable, Hashable {
        /// Absent or empty: from anywhere.
        public var from: [Peer]?
        /// Absent or empty: every port.
        public var ports: [Port]?

        public init(from: [Peer]? = nil, ports: [Port]? = nil) {
            self.from = from
            self.ports = ports
        }
    }

    public struct EgressRule: Codable, Sendable, Hashable {
        public var to: [Peer]?
        public var ports: [Port]?

        public init(to: [Peer]? = nil, ports: [Port]? = nil) {
            self.to = to
            self.ports = ports
        }
    }

    /// One peer: pods (in this or selected namespaces) or an IP block.
    public struct Peer: Codable, Sendable, Hashable {
        public var podSelector: LabelSelector?
        public var namespaceSelector: LabelSelector?
        public var ipBlock: IPBlock?

        public init(podSelector: LabelSelector? = nil, namespaceSelector: LabelSelector? = nil, ipBlock: IPBlock? = nil) {
            self.podSelector = podSelector
            self.namespaceSelector = namespaceSelector
            self.ipBlock = ipBlock
        }
    }

    public struct IPBlock: Codable, Sendable, Hashable {
        public var cidr: String
        public var except: [String]?

        public init(cidr: String, except: [String]? = nil) {
            self.cidr = cidr
            self.except = except
        }
    }

    public struct Port: Codable, Sendable, Hashable {
        /// `TCP` when absent.
        public var `protocol`: String?
        /// A number or a named container port; absent means every port.
        public var port: IntOrString?
        /// With a numeric `port`, the last port of the range.
        public var endPort: Int?

        public init(protocol: String? = nil, port: IntOrString? = nil, endPort: Int? = nil) {
            self.protocol = `protocol`
            self.port = port
            self.endPort = endPort
        }
    }
}
