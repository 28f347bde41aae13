import Core

extension K8sNode {
    /// The Node's pod CIDRs: spec.podCIDRs when set (dual stack), else spec.podCIDR.
    public var podCIDRs: [String] {
        if let list = spec?.podCIDRs, !list.isEmpty { return list }
        if let one = spec?.podCIDR, !one.isEmpty { return [one] }
        return []
    }

    /// The same from the Node as the server sent it (`KubeAPI.getJSON`), without a typed decode.
    public static func podCIDRs(fromJSON node: JSONValue) -> [String] {
        let spec = node["spec"]
        let list = spec?["podCIDRs"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if !list.isEmpty { return list }
        if let one = spec?["podCIDR"]?.stringValue, !one.isEmpty { return [one] }
        return []
    }
}

extension HostLocalPodCIDR {
    /// Reads the Node and substitutes its pod CIDRs into `ipam` (only when a marker is present,
    /// so a config without one never touches the API).
    public static func resolve(_ ipam: JSONValue, node: String, api: () async throws -> any KubeAPI) async throws -> JSONValue {
        guard needsPodCIDR(ipam) else { return ipam }
        let n = try await api().get(K8sNode.self, name: node, namespace: nil)
        return try substitute(ipam, podCIDRs: n.podCIDRs)
    }
}
