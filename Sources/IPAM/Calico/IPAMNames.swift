import Core

/// The object names Calico's Kubernetes datastore uses for IPAM resources.
public enum IPAMNames {
    /// IPAMBlock name: the CIDR with `.`, `:` and `/` made `-` (`10-0-0-0-26`, `fd00--80-122`).
    public static func blockName(_ cidr: IPNet) -> String {
        dashed(cidr.description)
    }

    /// BlockAffinity name: `<node>-<cidr dashed>`.
    public static func affinityName(node: String, cidr: IPNet) -> String {
        "\(node)-\(blockName(cidr))"
    }

    /// The block's `affinity` value for a node.
    public static func hostAffinity(_ node: String) -> String { "host:\(node)" }

    /// The node named by a block's `affinity` (`host:<node>`), or nil for none or another type.
    public static func affineNode(_ affinity: String?) -> String? {
        guard let affinity, affinity.hasPrefix("host:") else { return nil }
        return String(affinity.dropFirst("host:".count))
    }

    static func dashed(_ text: String) -> String {
        String(text.map { $0 == "." || $0 == ":" || $0 == "/" ? "-" : $0 })
    }
}
