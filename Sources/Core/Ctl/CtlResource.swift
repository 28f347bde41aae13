/// One resource of a ctl file, in the form we store: the crd.projectcalico.org/v1 object
/// (calicoctl's `projectcalico.org/v3` is accepted and mapped onto it), or for a Calico Node the
/// annotation patch of the Kubernetes Node it lives on.
public struct CtlResource: Sendable, Equatable {
    public var kind: ResourceKind
    public var name: String
    public var namespace: String?
    /// The object to create or replace; for `.node` the merge patch of the Kubernetes Node.
    public var body: JSONValue

    /// `IPPool default-ipv4-ippool`, `NetworkPolicy ns/name`.
    public var label: String { "\(kind.kind) " + (namespace.map { "\($0)/\(name)" } ?? name) }

    public static let calicoV3 = "projectcalico.org/v3"

    /// The kinds ctl writes, by their `kind` field.
    public static let kinds: [String: ResourceKind] = [
        "BGPConfiguration": .bgpConfiguration, "BGPPeer": .bgpPeer, "IPPool": .ipPool,
        "FelixConfiguration": .felixConfiguration, "NetworkPolicy": .calicoNetworkPolicy,
        "GlobalNetworkPolicy": .globalNetworkPolicy, "NetworkSet": .networkSet,
        "GlobalNetworkSet": .globalNetworkSet, "HostEndpoint": .hostEndpoint, "Node": .node,
    ]

    /// Maps and validates document `index` (1-based, for errors).
    public static func from(_ doc: JSONValue, index: Int) throws(CtlError) -> CtlResource {
        guard case .object = doc else { throw .unsupported(document: index, detail: "not an object with apiVersion, kind, metadata and spec") }
        let apiVersion = doc["apiVersion"]?.stringValue ?? ""
        let kindName = doc["kind"]?.stringValue ?? ""
        guard apiVersion == calicoV3 || apiVersion == "\(ResourceKind.calicoGroup)/v1" else {
            throw .unsupported(document: index, detail: "apiVersion \"\(apiVersion)\" is not \(calicoV3) (or \(ResourceKind.calicoGroup)/v1); "
                               + "use kubectl for Kubernetes resources")
        }
        guard let kind = kinds[kindName], !(kind == .node && apiVersion != calicoV3) else {
            throw .unsupported(document: index, detail: "kind \"\(kindName)\" is not one of " + kinds.keys.sorted().joined(separator: ", "))
        }
        let meta = doc["metadata"] ?? .object([:])
        let name = meta["name"]?.stringValue ?? ""
        let namespace = kind.namespaced ? (meta["namespace"]?.stringValue ?? "default") : nil
        let label = "\(kindName) " + (namespace.map { "\($0)/\(name)" } ?? (name.isEmpty ? "(document \(index))" : name))
        try CtlValidation.validate(doc, kind: kind, label: label)

        if kind == .node { return CtlResource(kind: kind, name: name, namespace: nil, body: nodePatch(doc)) }
        var metadata: [String: JSONValue] = ["name": .string(name)]
        if let namespace { metadata["namespace"] = .string(namespace) }
        for key in ["labels", "annotations"] { if let v = meta[key], v != .null { metadata[key] = v } }
        let body = JSONValue.object([
            "apiVersion": .string(kind.apiVersion), "kind": .string(kind.kind),
            "metadata": .object(metadata), "spec": doc["spec"] ?? .object([:]),
        ])
        return CtlResource(kind: kind, name: name, namespace: namespace, body: body)
    }

    /// A Calico v3 Node's BGP spec as the Kubernetes Node annotations the datastore keeps it in.
    static func nodePatch(_ doc: JSONValue) -> JSONValue {
        var annotations: [String: JSONValue] = [:]
        let bgp = doc["spec"]?["bgp"]
        let fields = [("ipv4Address", "IPv4Address"), ("ipv6Address", "IPv6Address"), ("asNumber", "ASNumber"),
                      ("routeReflectorClusterID", "RouteReflectorClusterID"), ("ipv4IPIPTunnelAddr", "IPv4IPIPTunnelAddr")]
        for (field, annotation) in fields {
            switch bgp?[field] {
            case .string(let s)?: annotations["projectcalico.org/" + annotation] = .string(s)
            case .int(let i)?: annotations["projectcalico.org/" + annotation] = .string(String(i))
            default: annotations["projectcalico.org/" + annotation] = .null
            }
        }
        var metadata: [String: JSONValue] = ["annotations": .object(annotations)]
        if let labels = doc["metadata"]?["labels"], labels != .null { metadata["labels"] = labels }
        return .object(["metadata": .object(metadata)])
    }
}
