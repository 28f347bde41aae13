import Core

/// Deterministic nftables names for felix's chains and sets. Short, safe names are kept
/// readable; longer or unusual ones become a SHA-1 prefix so a name never exceeds 64 bytes.
public enum RenderNames {
    public static let table = "calico"
    public static let forwardChain = "filter-forward"
    public static let inputChain = "filter-input"
    /// Prerouting at raw priority: the reverse-path (anti-spoofing) check of workload traffic.
    public static let rawPreroutingChain = "raw-prerouting"
    /// The chains that evaluate every workload's policy, to it (ingress) and from it (egress).
    public static let toWorkloads = "cali-to-wl"
    public static let fromWorkloads = "cali-from-wl"
    public static let workloadInterfaces = "cali-wl-ifaces"
    /// The verdict maps from a workload interface to its endpoint chain.
    public static let toWorkloadMap = "cali-tw-dispatch"
    public static let fromWorkloadMap = "cali-fw-dispatch"

    public static func dispatchChain(ingress: Bool) -> String { ingress ? toWorkloads : fromWorkloads }
    public static func dispatchMap(ingress: Bool) -> String { ingress ? toWorkloadMap : fromWorkloadMap }

    /// An endpoint's own chain: the verdict to (`cali-tw-`) or from (`cali-fw-`) it, with its
    /// counters (Calico's names; an interface name is at most 15 bytes).
    public static func toWorkload(_ iface: String) -> String { "cali-tw-" + iface }
    public static func fromWorkload(_ iface: String) -> String { "cali-fw-" + iface }
    public static func endpointChain(_ iface: String, ingress: Bool) -> String { ingress ? toWorkload(iface) : fromWorkload(iface) }

    /// The interfaces of the endpoints that go through one policy or profile chain at one place
    /// of a dispatch chain (`occurrence` > 0 only when endpoints order them differently).
    public static func membersSet(chain: String, occurrence: Int) -> String {
        "ep-" + chain + (occurrence == 0 ? "" : "-\(occurrence)")
    }

    /// The interfaces of the endpoints for which tier `tier` applies in one direction.
    public static func tierSet(_ tier: String, ingress: Bool, occurrence: Int) -> String {
        (ingress ? "tier-in-" : "tier-out-") + readable(tier) + (occurrence == 0 ? "" : "-\(occurrence)")
    }

    /// The set holding the values of one field (`d-ports`, `s4-nets`, ...) of a rule of a policy
    /// or profile chain. Named by the rule's shape (everything but its values) and its ordinal
    /// among the chain's rules of that shape, not by its index: inserting or removing another
    /// rule renames no set, and editing only values keeps every name (an element-only batch).
    public static func valueSet(owner: String, rule: PolicyRule, ordinal: Int = 0, field: String) -> String {
        valueSet(owner: owner, shape: RuleShape.key(rule), ordinal: ordinal, field: field)
    }

    static func valueSet(owner: String, shape: String, ordinal: Int, field: String) -> String {
        "v-" + SHA1.hexDigest("\(owner)|\(shape)|\(ordinal)|\(field)").prefix(16)
    }

    public static func policyChain(_ key: PolicyKey, ingress: Bool) -> String {
        let name = key.namespace.map { "\($0)_\(key.name)" } ?? key.name
        return (ingress ? "cali-pi-" : "cali-po-") + readable(name)
    }

    public static func profileChain(_ name: String, ingress: Bool) -> String {
        (ingress ? "cali-pri-" : "cali-pro-") + readable(name)
    }

    /// The address set of a selector for one IP version.
    public static func selectorSet(_ id: IPSetID, ipv6: Bool) -> String {
        (ipv6 ? "s6-" : "s4-") + SHA1.hexDigest(id.description).prefix(16)
    }

    /// The addresses and ports of a named port for one IP version: each endpoint's address
    /// with the port the name resolves to on it.
    public static func namedPortSet(_ id: IPSetID, ipv6: Bool) -> String {
        (ipv6 ? "n6-" : "n4-") + SHA1.hexDigest(id.description).prefix(16)
    }

    static func readable(_ name: String) -> String {
        let safe = name.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x2E || b == 0x5F
        }
        guard !safe || name.utf8.count > 48 else { return name }
        return "h-" + SHA1.hexDigest(name).prefix(20)
    }
}

/// Mark bits felix uses between an endpoint chain and the policy chains it jumps to.
public enum RenderMarks {
    public static let accept: UInt32 = 0x10000
    public static let pass: UInt32 = 0x20000
    public static let all: UInt32 = accept | pass
}
