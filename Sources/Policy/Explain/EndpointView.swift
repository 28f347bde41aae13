import Core

/// One endpoint as felix programs it: its tiers, policies and profiles in the order they are
/// evaluated, per direction, and the kernel rules its packets can meet, in the kernel's order.
///
/// The policies are jumped to from the shared chains `cali-to-wl` and `cali-from-wl`, each
/// guarded by the set of the interfaces it applies to (a jump from every endpoint's own chain
/// would make the kernel walk every endpoint's list of policies at each rule-adding commit,
/// docs/benchmarks.md); the endpoint's own chain `cali-tw-<iface>` / `cali-fw-<iface>` then
/// gives and counts its verdict. This view is what Calico's per-endpoint chains list: the shared
/// chain's rules whose interface-set matches the endpoint's interface satisfies, then its own
/// chain's rules. Pure: the ruleset is `RulesetRenderer`'s for the endpoint's node.
public struct EndpointView: Sendable, Hashable, Encodable {
    public var endpoint: String
    public var node: String
    public var interface: String
    public var addresses: [String]
    /// To the workload, then from it.
    public var ingress: Direction
    public var egress: Direction

    public struct Tier: Sendable, Hashable, Encodable {
        public var name: String
        public var policies: [String]
    }

    public struct Direction: Sendable, Hashable, Encodable {
        /// The tiers in order, each with its policies in order; empty: the profiles decide.
        public var tiers: [Tier]
        public var profiles: [String]
        /// The shared chain, and those of its rules that apply to the interface (nft syntax).
        public var chain: String
        public var rules: [String]
        /// The endpoint's own chain (reached through the direction's verdict map) and its rules,
        /// which give and count this endpoint's verdict.
        public var endpointChain: String
        public var endpointRules: [String]
    }

    /// The view of the endpoint on `interface`; nil when `state` has no such local endpoint.
    public static func make(interface: String, node: String, state: DataplaneState, ruleset: NFTRuleset) -> EndpointView? {
        guard let plan = state.endpoints[interface] else { return nil }
        func direction(ingress: Bool) -> Direction {
            let tiers = (ingress ? plan.ingress : plan.egress).map { Tier(name: $0.name, policies: $0.policies.map(\.description)) }
            let shared = RenderNames.dispatchChain(ingress: ingress)
            let own = RenderNames.endpointChain(interface, ingress: ingress)
            return Direction(tiers: tiers, profiles: plan.profiles, chain: shared,
                             rules: applying(ruleset.chains[shared]?.rules ?? [], interface, ingress: ingress, ruleset).map(text),
                             endpointChain: own, endpointRules: (ruleset.chains[own]?.rules ?? []).map(text))
        }
        return EndpointView(endpoint: plan.key, node: node, interface: interface, addresses: plan.addresses.map(\.description),
                            ingress: direction(ingress: true), egress: direction(ingress: false))
    }

    /// The rules of a shared chain that apply to `interface`. A place the interface is not in is
    /// a guarded rule and the unguarded one after it (the return on the accept mark after a
    /// policy's jump, the pass mark's clearing after a tier's end): both go, the second being
    /// a no-op for packets that never took the first.
    static func applying(_ rules: [NFTRule], _ interface: String, ingress: Bool, _ ruleset: NFTRuleset) -> [NFTRule] {
        var out: [NFTRule] = []
        var skippedPlace = false
        for rule in rules {
            if guards(rule, ingress: ingress) {
                skippedPlace = !applies(rule, interface, ingress: ingress, ruleset)
                if skippedPlace { continue }
            } else if skippedPlace {
                skippedPlace = false
                continue
            }
            out.append(rule)
        }
        return out
    }

    /// A rule as nft lists it, with its comment (without the identity hash felix stores).
    private static func text(_ rule: NFTRule) -> String {
        NFTText.rule(rule) + (rule.comment.map { " comment " + NFTText.quoted($0) } ?? "")
    }

    /// Whether each interface-set match of the rule (output interface to a workload, input
    /// interface from one) holds for `interface`; rules without one apply to every endpoint.
    static func applies(_ rule: NFTRule, _ interface: String, ingress: Bool, _ ruleset: NFTRuleset) -> Bool {
        rule.matches.allSatisfy { match in
            switch match {
            case .oifnameInSet(let set, let negated) where ingress, .iifnameInSet(let set, let negated) where !ingress:
                return (ruleset.sets[set]?.elements.contains(.ifname(interface)) ?? false) != negated
            default:
                return true
            }
        }
    }

    /// Whether the rule tests the interface of its direction through a set at all.
    private static func guards(_ rule: NFTRule, ingress: Bool) -> Bool {
        rule.matches.contains { match in
            switch match {
            case .oifnameInSet: return ingress
            case .iifnameInSet: return !ingress
            default: return false
            }
        }
    }

    /// The view as text: the order of evaluation first, then the kernel's rules.
    public var text: String {
        var out = "endpoint \(endpoint) on node \(node), interface \(interface), addresses \(addresses.joined(separator: ", "))\n"
        for (title, d) in [("ingress (to the workload)", ingress), ("egress (from the workload)", egress)] {
            out += "\n\(title):\n"
            if d.tiers.isEmpty { out += "  no policy: the profiles decide\n" }
            for tier in d.tiers { out += "  tier \(tier.name): " + tier.policies.joined(separator: ", ") + "\n" }
            out += "  profiles: " + (d.profiles.isEmpty ? "none (denied unless a policy allows)" : d.profiles.joined(separator: ", ")) + "\n"
            out += "  rules of \(d.chain) that apply to \(interface):\n"
            for rule in d.rules { out += "    \(rule)\n" }
            out += "  then its own chain \(d.endpointChain):\n"
            for rule in d.endpointRules { out += "    \(rule)\n" }
        }
        return out
    }
}
