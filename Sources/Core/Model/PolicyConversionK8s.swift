/// Kubernetes NetworkPolicy to Calico NetworkPolicy `knp.default.<name>`, as Calico's
/// Kubernetes datastore converts it (then to felix's Policy like any Calico policy).
public enum K8sPolicyConversion {
    public static let namePrefix = "knp.default."
    public static let order: Double = 1000

    /// The Calico policy: order 1000, tier default, Allow rules, one rule per peer and protocol.
    public static func calicoPolicy(_ policy: K8sNetworkPolicy) throws(PolicyConversionError) -> CalicoNetworkPolicy {
        let spec = policy.spec
        let selector = try labelSelector { () throws(SelectorConversionError) in try SelectorExpr.kubernetesPodSelector(spec.podSelector) }
        var ingress: [CalicoRule] = []
        for rule in spec.ingress ?? [] { ingress += try rules(peers: rule.from, ports: rule.ports, ingress: true) }
        var egress: [CalicoRule] = []
        for rule in spec.egress ?? [] { egress += try rules(peers: rule.to, ports: rule.ports, ingress: false) }
        var meta = ObjectMeta(name: namePrefix + policy.metadata.name, namespace: policy.metadata.namespace ?? "default")
        meta.uid = policy.metadata.uid
        meta.resourceVersion = policy.metadata.resourceVersion
        return CalicoNetworkPolicy(metadata: meta, spec: CalicoPolicySpec(
            order: order, tier: "default", selector: selector.description, types: types(spec),
            ingress: ingress, egress: egress))
    }

    /// The felix policy of a Kubernetes NetworkPolicy.
    public static func policy(_ policy: K8sNetworkPolicy) throws(PolicyConversionError) -> Policy {
        try Policy(calico: calicoPolicy(policy))
    }

    /// policyTypes, else Ingress plus Egress when egress rules exist (the API's defaulting).
    static func types(_ spec: K8sNetworkPolicySpec) -> [String] {
        if let given = spec.policyTypes, !given.isEmpty { return given }
        return (spec.egress ?? []).isEmpty ? ["Ingress"] : ["Ingress", "Egress"]
    }

    /// Peers ORed (one rule each, or one rule with no peer), each crossed with the port groups.
    static func rules(peers: [K8sNetworkPolicySpec.Peer]?, ports: [K8sNetworkPolicySpec.Port]?,
                      ingress: Bool) throws(PolicyConversionError) -> [CalicoRule] {
        let groups = try portGroups(ports)
        var peerEntities: [EntityRule?] = []
        for peer in peers ?? [] { peerEntities.append(try entity(peer)) }
        if peerEntities.isEmpty { peerEntities = [nil] }
        var out: [CalicoRule] = []
        for peer in peerEntities {
            for group in groups {
                var ports = EntityRule()
                ports.ports = group.ports
                let portSide: EntityRule? = group.ports == nil ? nil : ports
                out.append(CalicoRule(action: "Allow", protocol: group.protocol,
                                      source: ingress ? peer : nil, destination: ingress ? portSide : mergePorts(peer, group.ports)))
            }
        }
        return out
    }

    private static func mergePorts(_ peer: EntityRule?, _ ports: [CalicoPort]?) -> EntityRule? {
        guard let ports else { return peer }
        var out = peer ?? EntityRule()
        out.ports = ports
        return out
    }

    /// A peer: an ipBlock as nets/notNets, else a pod selector (orchestrator k8s) with an
    /// optional namespace selector.
    static func entity(_ peer: K8sNetworkPolicySpec.Peer) throws(PolicyConversionError) -> EntityRule {
        if let block = peer.ipBlock {
            guard let net = IPNet(parsing: block.cidr) else { throw .badNet(field: "ipBlock.cidr", value: block.cidr) }
            let except = try EntityMatch.nets(block.except, field: "ipBlock.except")
            return EntityRule(nets: [net.description], notNets: except.isEmpty ? nil : except.map(\.description))
        }
        let pods = try labelSelector { () throws(SelectorConversionError) in try SelectorExpr.kubernetesPodSelector(peer.podSelector) }
        let namespaces = try labelSelector { () throws(SelectorConversionError) in
            try SelectorExpr.kubernetesNamespaceSelector(peer.namespaceSelector)
        }
        return EntityRule(selector: pods.description, namespaceSelector: namespaces?.description)
    }

    struct PortGroup: Hashable {
        var `protocol`: IntOrString?
        var ports: [CalicoPort]?
    }

    /// No ports: one group matching every protocol. Else one group per protocol (TCP when
    /// unnamed), in order of first appearance; a port-less entry opens its protocol entirely.
    static func portGroups(_ ports: [K8sNetworkPolicySpec.Port]?) throws(PolicyConversionError) -> [PortGroup] {
        guard let ports, !ports.isEmpty else { return [PortGroup()] }
        var order: [String] = []
        var byProtocol: [String: [CalicoPort]?] = [:]
        for port in ports {
            let proto = (port.protocol ?? "TCP").uppercased()
            guard IPProtocol(.string(proto)) != nil else { throw .badProtocol(field: "ports.protocol", value: proto) }
            if byProtocol[proto] == nil { order.append(proto); byProtocol[proto] = .some([]) }
            guard let value = port.port else { byProtocol[proto] = .some(nil); continue }
            guard case .some(var list?) = byProtocol[proto] else { continue }
            list.append(try calicoPort(value, endPort: port.endPort))
            byProtocol[proto] = .some(list)
        }
        return order.map { PortGroup(protocol: .string($0), ports: byProtocol[$0] ?? nil) }
    }

    private static func calicoPort(_ value: IntOrString, endPort: Int?) throws(PolicyConversionError) -> CalicoPort {
        switch value {
        case .int(let n):
            guard let lo = UInt16(exactly: n), lo > 0 else { throw .badPort(field: "ports.port", value: String(n)) }
            guard let endPort, endPort != n else { return .number(lo) }
            guard let hi = UInt16(exactly: endPort), hi >= lo else { throw .badPort(field: "ports.endPort", value: String(endPort)) }
            return .range(lo, hi)
        case .string(let name):
            guard let port = CalicoPort(parsing: name) else { throw .badPort(field: "ports.port", value: name) }
            return port
        }
    }

    private static func labelSelector<T>(_ body: () throws(SelectorConversionError) -> T) throws(PolicyConversionError) -> T {
        do { return try body() } catch { throw .badLabelSelector(field: "podSelector", error) }
    }
}
