import Core

/// One Calico rule to nftables rules. A rule becomes several when it needs alternatives nftables
/// cannot express in one rule: each IP version it may match, each of several nets, and each
/// (protocol, port) a named port resolves to.
struct RuleRenderer {
    let state: DataplaneState

    func render(_ rule: PolicyRule, comment: String?) -> [NFTRule] {
        var out: [NFTRule] = []
        for version in versions(rule) {
            out += render(rule, version: version, comment: comment)
        }
        return out
    }

    /// nil: a rule with no address match, valid for both versions at once.
    private func versions(_ rule: PolicyRule) -> [Int?] {
        if let v = rule.ipVersion { return [v] }
        if rule.protocol == .icmp { return [4] }
        if rule.protocol == .icmpv6 { return [6] }
        return hasAddressMatch(rule) ? [4, 6] : [nil]
    }

    private func render(_ rule: PolicyRule, version: Int?, comment: String?) -> [NFTRule] {
        let v6 = version == 6
        var common: [NFTMatch] = []
        if let version, rule.ipVersion != nil || !hasAddressMatch(rule) { common.append(.ipVersion(version)) }
        if let p = rule.protocol { common.append(.l4proto(p.number)) }
        if let p = rule.notProtocol { common.append(.l4proto(p.number, negated: true)) }
        if let icmp = rule.icmp { common.append(.icmp(ipv6: v6, type: icmp.type, code: icmp.code)) }
        if let icmp = rule.notICMP { common.append(.icmp(ipv6: v6, type: icmp.type, code: icmp.code, negated: true)) }

        guard let source = sideAlternatives(rule.source, rule: rule, direction: .source, version: version),
              let destination = sideAlternatives(rule.destination, rule: rule, direction: .destination, version: version)
        else { return [] }
        var out: [NFTRule] = []
        for s in source {
            for d in destination {
                out.append(NFTRule(common + s + d, statements: statements(rule.action), verdict: verdict(rule.action), comment: comment))
            }
        }
        return out
    }

    /// Whether a side matches addresses (nets, selectors, named ports), which are per version.
    private func hasAddressMatch(_ rule: PolicyRule) -> Bool {
        [rule.source, rule.destination].contains { side in
            !side.nets.isEmpty || !side.notNets.isEmpty || side.selector != nil || side.notSelector != nil
                || side.ports.contains { if case .named = $0 { return true } else { return false } }
        }
    }

    /// The alternatives (ORed) for one side, each a list of matches (ANDed); nil when the side
    /// cannot match in this IP version.
    private func sideAlternatives(_ side: EntityMatch, rule: PolicyRule, direction: NFTDirection, version: Int?) -> [[NFTMatch]]? {
        let v6 = version == 6
        var base: [NFTMatch] = []
        let nets = side.nets.filter { version == nil || $0.ipVersion == version }
        if !side.nets.isEmpty && nets.isEmpty { return nil }
        for net in side.notNets where version == nil || net.ipVersion == version { base.append(.addr(direction, net, negated: true)) }
        if let s = side.selector { base.append(.addrInSet(direction, ipv6: v6, set: RenderNames.selectorSet(.selector(s), ipv6: v6))) }
        if let s = side.notSelector {
            base.append(.addrInSet(direction, ipv6: v6, set: RenderNames.selectorSet(.selector(s), ipv6: v6), negated: true))
        }
        var alternatives: [[NFTMatch]] = nets.isEmpty ? [base] : nets.map { [.addr(direction, $0)] + base }

        let portDirection: NFTPortDirection = direction == .source ? .source : .destination
        let numeric = side.ports.compactMap { p -> ClosedRange<UInt16>? in if case .range(let lo, let hi) = p { return lo...hi }; return nil }
        let notNumeric = side.notPorts.compactMap { p -> ClosedRange<UInt16>? in if case .range(let lo, let hi) = p { return lo...hi }; return nil }
        let named = side.ports.compactMap { p -> String? in if case .named(let n) = p { return n }; return nil }
        if !side.ports.isEmpty || !side.notPorts.isEmpty {
            guard let proto = rule.protocol.flatMap({ NFTPortProtocol(rawValue: $0.description.lowercased()) }) else { return nil }
            if !notNumeric.isEmpty {
                alternatives = alternatives.map { $0 + [.port(proto, portDirection, Self.portMatch(notNumeric), negated: true)] }
            }
            if !side.ports.isEmpty {
                var portAlternatives: [[NFTMatch]] = []
                if !numeric.isEmpty { portAlternatives.append([.port(proto, portDirection, Self.portMatch(numeric))]) }
                for name in named {
                    let id = IPSetID.namedPort(side.selector ?? .all, rule.protocol, name)
                    let members = state.ipSets[id]?.ports ?? []
                    let ports = Set(members.filter { $0.protocol == rule.protocol }.map(\.port)).sorted()
                    for port in ports {
                        let set = RenderNames.namedPortSet(id, proto: rule.protocol ?? .tcp, port: port, ipv6: v6)
                        portAlternatives.append([.addrInSet(direction, ipv6: v6, set: set), .port(proto, portDirection, .eq(port))])
                    }
                }
                alternatives = alternatives.flatMap { a in portAlternatives.map { a + $0 } }
            }
        }
        return alternatives
    }

    static func portMatch(_ ranges: [ClosedRange<UInt16>]) -> NFTPortMatch {
        if ranges.count == 1, let r = ranges.first { return r.count == 1 ? .eq(r.lowerBound) : .range(r) }
        return .anyOf(ranges.sorted { ($0.lowerBound, $0.upperBound) < ($1.lowerBound, $1.upperBound) })
    }

    private func statements(_ action: RuleAction) -> [NFTStatement] {
        switch action {
        case .allow: return [.orMark(RenderMarks.accept)]
        case .pass: return [.orMark(RenderMarks.pass)]
        case .log: return [.log(prefix: "calico-packet: ")]
        case .deny: return []
        }
    }

    private func verdict(_ action: RuleAction) -> NFTVerdict? {
        switch action {
        case .allow, .pass: return .return
        case .deny: return .drop
        case .log: return nil
        }
    }
}
