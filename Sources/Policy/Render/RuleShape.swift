import Core

/// A rule's shape: everything in it except the values that go into value sets (numeric ports
/// and notPorts, nets and notNets). Two rules of one shape render to the same nftables rules up
/// to the contents of their value sets, so a set named by shape survives value edits.
enum RuleShape {
    static func key(_ rule: PolicyRule) -> String {
        var parts = [
            rule.action.rawValue,
            rule.ipVersion.map(String.init) ?? "",
            rule.protocol.map { String($0.number) } ?? "",
            rule.notProtocol.map { String($0.number) } ?? "",
            icmp(rule.icmp), icmp(rule.notICMP),
        ]
        parts += side(rule.source) + side(rule.destination)
        return parts.joined(separator: "|")
    }

    /// For each rule, its ordinal among the earlier rules of the same shape in one chain.
    static func ordinals(_ rules: [PolicyRule]) -> [(shape: String, ordinal: Int)] {
        var seen: [String: Int] = [:]
        return rules.map { rule in
            let shape = key(rule)
            let ordinal = seen[shape, default: 0]
            seen[shape] = ordinal + 1
            return (shape, ordinal)
        }
    }

    private static func icmp(_ m: ICMPMatch?) -> String {
        guard let m else { return "" }
        return "\(m.type)/\(m.code.map(String.init) ?? "")"
    }

    /// Which value fields a side has (and the IP versions of its nets, which decide which
    /// per-version sets exist), its selectors and its named ports.
    private static func side(_ side: EntityMatch) -> [String] {
        func versions(_ nets: [IPNet]) -> String { Set(nets.map(\.ipVersion)).sorted().map(String.init).joined(separator: ",") }
        func numeric(_ ports: [PortMatch]) -> String {
            ports.contains { if case .range = $0 { return true } else { return false } } ? "n" : ""
        }
        func named(_ ports: [PortMatch]) -> String {
            ports.compactMap { if case .named(let n) = $0 { return n } else { return nil } }.joined(separator: ",")
        }
        return [versions(side.nets), versions(side.notNets),
                side.selector?.description ?? "", side.notSelector?.description ?? "",
                numeric(side.ports), named(side.ports), numeric(side.notPorts), named(side.notPorts)]
    }
}
