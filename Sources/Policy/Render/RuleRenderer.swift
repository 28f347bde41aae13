import Core

/// One Calico rule to nftables rules. A rule becomes several when it needs alternatives nftables
/// cannot express in one rule: each IP version it may match, and numeric ports or each named
/// port (a lookup of the address and port together: the name resolves per endpoint, which the
/// rule does not depend on). A field a user edits (ports, notPorts, nets, notNets) with one
/// value is written into the rule (an edit replaces the rule); with several it goes into a named
/// set of its own, named after the chain, the rule's shape and ordinal among rules of that shape
/// (`RuleShape`) and the field, so editing the list changes set elements only: the kernel commits
/// an element-only batch without re-validating the jump graph, and the rule and its handle stay;
/// inserting or removing another rule renames none of them. (One-value sets were most of the
/// table's sets, and every set the kernel makes or looks up by name walks the list of them all.)
struct RuleRenderer {
    /// Whether IPv6 rules are rendered (`CalcConfig.ipv6`).
    var ipv6 = true

    /// The rules for a rule of chain `owner`, the `ordinal`th of its shape there; the value sets
    /// they name are appended to `sets`.
    func render(_ rule: PolicyRule, owner: String, ordinal: Int = 0, sets: inout [NFTSet]) -> [NFTRule] {
        render(rule, owner: owner, shape: RuleShape.key(rule), ordinal: ordinal, sets: &sets)
    }

    func render(_ rule: PolicyRule, owner: String, shape: String, ordinal: Int, sets: inout [NFTSet]) -> [NFTRule] {
        var out: [NFTRule] = []
        let values = ValueSets(owner: owner, shape: shape, ordinal: ordinal)
        for version in rule.renderedVersions(ipv6: ipv6) {
            out += render(rule, version: version, values: values, sets: &sets)
        }
        return out
    }

    /// Names and collects the value sets of one rule.
    private struct ValueSets {
        let owner: String
        let shape: String
        let ordinal: Int

        func add(_ field: String, type: NFTSetType, _ elements: [NFTSetElement], to sets: inout [NFTSet]) -> String {
            let name = RenderNames.valueSet(owner: owner, shape: shape, ordinal: ordinal, field: field)
            if !sets.contains(where: { $0.name == name }) {
                sets.append(NFTSet(name: name, type: type, interval: true, elements: Set(elements)))
            }
            return name
        }
    }

    private func render(_ rule: PolicyRule, version: Int?, values: ValueSets, sets: inout [NFTSet]) -> [NFTRule] {
        let v6 = version == 6
        var common: [NFTMatch] = []
        if let version, rule.ipVersion != nil || !rule.loadsAddresses(version: version) { common.append(.ipVersion(version)) }
        if let p = rule.protocol { common.append(.l4proto(p.number)) }
        if let p = rule.notProtocol { common.append(.l4proto(p.number, negated: true)) }
        if let icmp = rule.icmp { common.append(.icmp(ipv6: v6, type: icmp.type, code: icmp.code)) }
        if let icmp = rule.notICMP { common.append(.icmp(ipv6: v6, type: icmp.type, code: icmp.code, negated: true)) }

        guard let source = sideAlternatives(rule.source, rule: rule, direction: .source, version: version, values: values, sets: &sets),
              let destination = sideAlternatives(rule.destination, rule: rule, direction: .destination, version: version,
                                                 values: values, sets: &sets)
        else { return [] }
        var out: [NFTRule] = []
        for s in source {
            for d in destination {
                out.append(NFTRule(common + s + d, statements: statements(rule.action), verdict: verdict(rule.action)))
            }
        }
        return out
    }

    /// The alternatives (ORed) for one side, each a list of matches (ANDed); nil when the side
    /// cannot match in this IP version.
    private func sideAlternatives(_ side: EntityMatch, rule: PolicyRule, direction: NFTDirection, version: Int?,
                                  values: ValueSets, sets: inout [NFTSet]) -> [[NFTMatch]]? {
        let v6 = version == 6
        let addrType: NFTSetType = v6 ? .ipv6Addr : .ipv4Addr
        let tag = "\(direction == .source ? "s" : "d")\(version.map(String.init) ?? "")"
        var base: [NFTMatch] = []
        let nets = side.nets.filter { version == nil || $0.ipVersion == version }
        if !side.nets.isEmpty && nets.isEmpty { return nil }
        if nets.count == 1 {
            base.append(.addr(direction, nets[0]))
        } else if !nets.isEmpty {
            base.append(.addrInSet(direction, ipv6: v6, set: values.add(tag + "-nets", type: addrType, nets.map { .net($0) }, to: &sets)))
        }
        let notNets = side.notNets.filter { version == nil || $0.ipVersion == version }
        if notNets.count == 1 {
            base.append(.addr(direction, notNets[0], negated: true))
        } else if !notNets.isEmpty {
            let set = values.add(tag + "-notnets", type: addrType, notNets.map { .net($0) }, to: &sets)
            base.append(.addrInSet(direction, ipv6: v6, set: set, negated: true))
        }
        if let s = side.selector { base.append(.addrInSet(direction, ipv6: v6, set: RenderNames.selectorSet(.selector(s), ipv6: v6))) }
        if let s = side.notSelector {
            base.append(.addrInSet(direction, ipv6: v6, set: RenderNames.selectorSet(.selector(s), ipv6: v6), negated: true))
        }
        var alternatives: [[NFTMatch]] = [base]

        let portDirection: NFTPortDirection = direction == .source ? .source : .destination
        let portTag = direction == .source ? "s" : "d"
        let numeric = side.ports.compactMap { p -> NFTSetElement? in if case .range(let lo, let hi) = p { return .ports(lo...hi) }; return nil }
        let notNumeric = side.notPorts.compactMap { p -> NFTSetElement? in if case .range(let lo, let hi) = p { return .ports(lo...hi) }; return nil }
        let named = side.ports.compactMap { p -> String? in if case .named(let n) = p { return n }; return nil }
        let notNamed = side.notPorts.compactMap { p -> String? in if case .named(let n) = p { return n }; return nil }
        // The set of a named port on this side: its selector's endpoints (all, without one).
        func namedSet(_ name: String) -> String { RenderNames.namedPortSet(.namedPort(side.selector ?? .all, rule.protocol, name), ipv6: v6) }
        if !side.ports.isEmpty || !side.notPorts.isEmpty {
            guard let proto = rule.protocol.flatMap({ NFTPortProtocol(rawValue: $0.description.lowercased()) }) else { return nil }
            if notNumeric.count == 1, case .ports(let r) = notNumeric[0] {
                alternatives = alternatives.map { $0 + [.port(proto, portDirection, Self.inline(r), negated: true)] }
            } else if !notNumeric.isEmpty {
                let set = values.add(portTag + "-notports", type: .inetService, notNumeric, to: &sets)
                alternatives = alternatives.map { $0 + [.port(proto, portDirection, .set(set), negated: true)] }
            }
            for name in notNamed {
                alternatives = alternatives.map { $0 + [.addrPortInSet(direction, ipv6: v6, proto, set: namedSet(name), negated: true)] }
            }
            if !side.ports.isEmpty {
                var portAlternatives: [[NFTMatch]] = []
                if numeric.count == 1, case .ports(let r) = numeric[0] {
                    portAlternatives.append([.port(proto, portDirection, Self.inline(r))])
                } else if !numeric.isEmpty {
                    let set = values.add(portTag + "-ports", type: .inetService, numeric, to: &sets)
                    portAlternatives.append([.port(proto, portDirection, .set(set))])
                }
                for name in named {
                    portAlternatives.append([.addrPortInSet(direction, ipv6: v6, proto, set: namedSet(name))])
                }
                alternatives = alternatives.flatMap { a in portAlternatives.map { a + $0 } }
            }
        }
        return alternatives
    }

    /// One port or range written into the rule.
    private static func inline(_ r: ClosedRange<UInt16>) -> NFTPortMatch { r.count == 1 ? .eq(r.lowerBound) : .range(r) }

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

extension PolicyRule {
    /// The IP versions the rule is rendered for, one nftables rule (or more) each; nil: one
    /// rule without an address match, valid for both versions at once. Without IPv6 support,
    /// none of version 6.
    func renderedVersions(ipv6: Bool) -> [Int?] {
        let versions: [Int?]
        switch (ipVersion, self.protocol) {
        case (let v?, _): versions = [v]
        case (nil, .icmp?): versions = [4]
        case (nil, .icmpv6?): versions = [6]
        default: versions = matchesAddresses ? [4, 6] : [nil]
        }
        return ipv6 ? versions : versions.filter { $0 != 6 }
    }

    /// Whether the rule's rendering for `version` loads an address of that family (which tests
    /// the family): else the rule must test it itself. A notNets of the other family alone
    /// renders nothing here, and without the test the rule would take the other family's
    /// packets, the excluded addresses among them.
    func loadsAddresses(version: Int) -> Bool {
        [source, destination].contains { side in
            side.nets.contains { $0.ipVersion == version } || side.notNets.contains { $0.ipVersion == version }
                || side.selector != nil || side.notSelector != nil
                || (side.ports + side.notPorts).contains { if case .named = $0 { return true } else { return false } }
        }
    }

    /// Whether a side matches addresses (nets, selectors, named ports in ports or notPorts) of
    /// some family, which are per IP version: such a rule is rendered, and evaluated, once per version.
    var matchesAddresses: Bool { loadsAddresses(version: 4) || loadsAddresses(version: 6) }
}
