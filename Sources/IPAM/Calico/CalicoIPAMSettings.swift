import Core

/// The `ipam` section of the network config as calico-ipam reads it:
/// `{"type": "calico-ipam", "ipv4_pools": [...], "ipv6_pools": [...], "assign_ipv4": "true",
/// "assign_ipv6": "false"}`. Pools are named by IPPool name or CIDR. Calico writes the
/// assign_* flags as strings; JSON booleans are accepted too.
public struct CalicoIPAMSettings: Sendable, Hashable {
    public var ipv4Pools: [String]
    public var ipv6Pools: [String]
    public var assignIPv4: Bool
    public var assignIPv6: Bool

    public init(ipv4Pools: [String] = [], ipv6Pools: [String] = [], assignIPv4: Bool = true, assignIPv6: Bool = false) {
        self.ipv4Pools = ipv4Pools
        self.ipv6Pools = ipv6Pools
        self.assignIPv4 = assignIPv4
        self.assignIPv6 = assignIPv6
    }

    public static func parse(_ ipam: JSONValue) throws(IPAMError) -> CalicoIPAMSettings {
        let v4 = try pools(ipam, "ipv4_pools")
        let v6 = try pools(ipam, "ipv6_pools")
        let settings = CalicoIPAMSettings(ipv4Pools: v4, ipv6Pools: v6,
                                          assignIPv4: try flag(ipam, "assign_ipv4") ?? true,
                                          assignIPv6: try flag(ipam, "assign_ipv6") ?? false)
        guard settings.assignIPv4 || settings.assignIPv6 else {
            throw .invalidConfig(field: "ipam.assign_ipv4/assign_ipv6", problem: "are both false: nothing to assign")
        }
        return settings
    }

    private static func pools(_ ipam: JSONValue, _ key: String) throws(IPAMError) -> [String] {
        guard let v = ipam[key], v != .null else { return [] }
        guard case .array(let items) = v else { throw .invalidConfig(field: "ipam.\(key)", problem: "must be a list of pool names or CIDRs") }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard let s = item.stringValue, !s.isEmpty else {
                throw .invalidConfig(field: "ipam.\(key)[\(i)]", problem: "must be a non-empty string (a pool name or CIDR)")
            }
            out.append(s)
        }
        return out
    }

    private static func flag(_ ipam: JSONValue, _ key: String) throws(IPAMError) -> Bool? {
        switch ipam[key] {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        case .string(let s)?:
            switch s.lowercased() {
            case "true": return true
            case "false": return false
            default: throw .invalidConfig(field: "ipam.\(key)", problem: "is \"\(s)\": use \"true\" or \"false\"")
            }
        default: throw .invalidConfig(field: "ipam.\(key)", problem: "must be \"true\" or \"false\"")
        }
    }
}
