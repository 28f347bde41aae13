/// A flow from one endpoint to another on a protocol and destination port.
public struct CtlFlow: Sendable {
    public var source: WorkloadEndpoint
    public var destination: WorkloadEndpoint
    public var `protocol`: IPProtocol
    public var port: UInt16

    public init(source: WorkloadEndpoint, destination: WorkloadEndpoint, protocol: IPProtocol, port: UInt16) {
        self.source = source
        self.destination = destination
        self.protocol = `protocol`
        self.port = port
    }
}

/// The verdict on a flow and the steps that led to it, one line per decision.
public struct CtlFlowVerdict: Sendable, Equatable {
    public var allowed: Bool
    public var steps: [String]
}

/// Which policy and rule allows or denies a flow, by felix's semantics on the same model:
/// egress of the source, then ingress of the destination; in each, the tiers in order (default
/// last), the policies of a tier by order then name, the first matching rule decides (Log goes
/// on, Pass skips to the next tier), a tier with policies but no match denies, and with no
/// policy (or after Pass) the endpoint's profiles decide.
public enum CtlFlowExplainer {
    public static func explain(_ flow: CtlFlow, policies: [Policy], profiles: [String: Profile]) -> CtlFlowVerdict {
        var steps: [String] = []
        let egress = direction(flow, ingress: false, policies: policies, profiles: profiles, steps: &steps)
        guard egress else { return CtlFlowVerdict(allowed: false, steps: steps) }
        let ingress = direction(flow, ingress: true, policies: policies, profiles: profiles, steps: &steps)
        return CtlFlowVerdict(allowed: ingress, steps: steps)
    }

    /// The endpoint's labels with those its profiles offer (namespace `pcns.*`, service account `pcsa.*`).
    static func labels(_ e: WorkloadEndpoint, _ profiles: [String: Profile]) -> [String: String] {
        var out: [String: String] = [:]
        for p in e.profiles.reversed() { out.merge(profiles[p]?.labels ?? [:]) { _, new in new } }
        out.merge(e.labels) { _, new in new }
        return out
    }

    static func direction(_ flow: CtlFlow, ingress: Bool, policies: [Policy], profiles: [String: Profile],
                          steps: inout [String]) -> Bool {
        let me = ingress ? flow.destination : flow.source
        let what = "\(ingress ? "ingress to" : "egress from") \(me.key)"
        let myLabels = labels(me, profiles)
        let applying = policies.filter { (ingress ? $0.types.ingress : $0.types.egress) && $0.selector.matches(labels: myLabels) }
        let tiers = Dictionary(grouping: applying, by: \.tier).keys.sorted { l, r in
            (l == "default") != (r == "default") ? r == "default" : l < r
        }
        tierLoop: for tier in tiers {
            let ordered = applying.filter { $0.tier == tier }.sorted(by: Policy.appliesBefore)
            for policy in ordered {
                for (i, rule) in (ingress ? policy.ingress : policy.egress).enumerated() where matches(rule, flow, profiles) {
                    let at = "\(what): policy \(policy.key) \(ingress ? "ingress" : "egress") rule \(i) (\(rule.action.rawValue))"
                    switch rule.action {
                    case .allow: steps.append("\(at) allows"); return true
                    case .deny: steps.append("\(at) denies"); return false
                    case .pass: steps.append("\(at) passes to the next tier"); continue tierLoop
                    case .log: steps.append("\(at) logs and goes on")
                    }
                }
            }
            steps.append("\(what): no rule of tier \(tier)'s policies (\(ordered.map(\.key.description).joined(separator: ", "))) matches: denied by default")
            return false
        }
        if applying.isEmpty { steps.append("\(what): no policy applies; profiles decide") }
        for name in me.profiles {
            guard let profile = profiles[name] else { continue }
            for (i, rule) in (ingress ? profile.ingress : profile.egress).enumerated() where matches(rule, flow, profiles) {
                let at = "\(what): profile \(name) \(ingress ? "ingress" : "egress") rule \(i) (\(rule.action.rawValue))"
                switch rule.action {
                case .allow: steps.append("\(at) allows"); return true
                case .deny: steps.append("\(at) denies"); return false
                case .pass, .log: continue
                }
            }
        }
        steps.append("\(what): no profile rule matches: denied")
        return false
    }

    static func matches(_ rule: PolicyRule, _ flow: CtlFlow, _ profiles: [String: Profile]) -> Bool {
        guard let src = flow.source.addresses.first, let dst = flow.destination.addresses.first else { return false }
        if let v = rule.ipVersion, v != dst.ipVersion { return false }
        if let p = rule.protocol, p != flow.protocol { return false }
        if let p = rule.notProtocol, p == flow.protocol { return false }
        if rule.icmp != nil { return false }  // a port flow is never ICMP
        // No source port is given: a rule that needs one cannot be shown to match.
        guard rule.source.ports.isEmpty, rule.source.notPorts.isEmpty else { return false }
        return entity(rule.source, flow.source, src, port: nil, flow, profiles)
            && entity(rule.destination, flow.destination, dst, port: flow.port, flow, profiles)
    }

    static func entity(_ m: EntityMatch, _ e: WorkloadEndpoint, _ address: IPNet, port: UInt16?, _ flow: CtlFlow,
                       _ profiles: [String: Profile]) -> Bool {
        if !m.nets.isEmpty && !m.nets.contains(where: { $0.contains(address) }) { return false }
        if m.notNets.contains(where: { $0.contains(address) }) { return false }
        let l = labels(e, profiles)
        if let s = m.selector, !s.matches(labels: l) { return false }
        if let s = m.notSelector, s.matches(labels: l) { return false }
        guard let port else { return true }
        if !m.ports.isEmpty && !m.ports.contains(where: { portMatches($0, port, e, flow.protocol) }) { return false }
        if m.notPorts.contains(where: { portMatches($0, port, e, flow.protocol) }) { return false }
        return true
    }

    static func portMatches(_ m: PortMatch, _ port: UInt16, _ e: WorkloadEndpoint, _ proto: IPProtocol) -> Bool {
        switch m {
        case .range(let lo, let hi): return (lo...hi).contains(port)
        case .named(let name): return e.ports.contains { $0.name == name && $0.protocol == proto && $0.port == port }
        }
    }
}
