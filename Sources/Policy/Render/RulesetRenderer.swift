import Core

/// The desired dataplane state as felix's nftables ruleset (table `calico`, family inet):
///
/// - `raw-prerouting` (hook prerouting, priority raw) is the anti-spoofing of every workload at
///   once: a packet from a workload interface whose source has no route back through that
///   interface (`fib saddr . iif oif missing`) is dropped before conntrack sees it; the pod's
///   own /32 and /128 routes let its addresses through (`ReversePathRenderer`).
/// - `filter-forward` (hook forward) clears our mark bits; traffic from a workload runs the
///   shared chain `cali-from-wl` (its egress policy), then its endpoint's chain `cali-fw-<iface>`
///   drops what it did not allow; traffic to a workload likewise runs `cali-to-wl`, then
///   `cali-tw-<iface>` accepts or drops it.
/// - `filter-input` (hook input), workload to host: with the endpoint-to-host action Drop (the
///   default) it accepts established/related and drops the rest, without evaluating anything;
///   with Accept or Return it runs the workload's egress like forward, then gives that verdict.
///   Traffic the node itself sends passes the output hook, which we leave alone: the node can
///   always reach its workloads.
/// - The two shared chains evaluate only: they accept established/related, drop invalid, then
///   walk the tiers in order; each policy is a jump guarded by the named set of the interfaces
///   it applies to (`ep-<policy chain>`) and by "no earlier policy passed"; a return on the
///   accept mark follows each jump; a tier ends with a return (denied) for its endpoints that
///   nobody passed. Then the profiles, guarded the same way. They return with the accept mark
///   set or clear.
/// - The verdict: after each shared chain the base chain sends the packet through a verdict map
///   keyed by interface to the endpoint's own chain (`cali-fw-<iface>`, `cali-tw-<iface>`:
///   `EndpointChainRenderer`), which acts on the mark and counts per endpoint.
/// - Policy and profile chains set the accept (0x10000) or pass (0x20000) mark and return.
///
/// Why this shape: nf_tables re-validates every rule reachable from a base chain at every
/// commit that adds a rule with a verdict, lookup or mark statement (or a verdict-map element);
/// that walk is most of a structural update's time. A policy chain jumped to from each
/// endpoint's chain (Calico's layout) made every policy change walk every endpoint's list of
/// policies; here the policies are jumped to from the shared chains, guarded by interface sets,
/// and each endpoint's chains are two rules that jump nowhere. A policy's endpoints changing
/// only changes elements of plain sets, which needs no validation; a pod coming or going is its
/// interface's elements and its two chains. The anti-spoofing lives in the prerouting chain
/// that jumps nowhere, and with Drop the input hook evaluates nothing.
public enum RulesetRenderer {
    public static func render(_ state: DataplaneState) -> NFTRuleset { renderNamingPieces(state).ruleset }

    /// `render`, with the names of the pieces each policy or profile brought (keyed by its
    /// ingress chain's name) and those of the dispatch (shared chains and sets) and the
    /// dispatch's slot index: what `IncrementalRenderer` tracks.
    static func renderNamingPieces(_ state: DataplaneState)
        -> (ruleset: NFTRuleset, owned: [String: [String]], dispatchNames: Set<String>, dispatchIndex: DispatchIndex?) {
        var ruleset = NFTRuleset(table: RenderNames.table, family: .inet)
        var owned: [String: [String]] = [:]
        for chain in baseChains(state.config) { ruleset.add(chain) }
        let dispatch = dispatchIndexed(state)
        for chain in dispatch.chains { ruleset.add(chain) }
        for set in dispatch.sets { ruleset.add(set) }
        for iface in state.endpoints.keys { for chain in endpointChains(iface) { ruleset.add(chain) } }
        for map in dispatchMaps(Array(state.endpoints.keys)) { ruleset.add(map) }
        let rules = RuleRenderer(ipv6: state.config.ipv6)
        for (key, policy) in state.policies {
            let pieces = policyChains(key, policy, rules)
            for piece in pieces { piece.add(to: &ruleset) }
            owned[RenderNames.policyChain(key, ingress: true)] = pieces.map(\.name)
        }
        for (name, profile) in state.profiles {
            let pieces = profileChains(name, profile, rules)
            for piece in pieces { piece.add(to: &ruleset) }
            owned[RenderNames.profileChain(name, ingress: true)] = pieces.map(\.name)
        }
        for set in ipSets(state) { ruleset.add(set) }
        return (ruleset, owned, Set(dispatch.chains.map(\.name) + dispatch.sets.map(\.name)), dispatch.index)
    }

    static func baseChains(_ config: CalcConfig) -> [NFTChain] {
        let wl = RenderNames.workloadInterfaces
        return [
            reversePathChain(),
            NFTChain(name: RenderNames.forwardChain, base: NFTBaseChain(hook: .forward), rules: [
                NFTRule(statements: [.andMark(~RenderMarks.all)]),
            ] + unknownInterface(config, input: true) + unknownInterface(config, input: false) + [
                NFTRule([.iifnameInSet(wl)], verdict: .jump(RenderNames.fromWorkloads)),
            ] + verdictRules(ingress: false) + [
                NFTRule([.oifnameInSet(wl)], verdict: .jump(RenderNames.toWorkloads)),
            ] + verdictRules(ingress: true)),
            NFTChain(name: RenderNames.inputChain, base: NFTBaseChain(hook: .input), rules: inputRules(config)),
        ]
    }

    /// Workload to host. Drop (the default) lets through only what conntrack already knows:
    /// replies to the node's own connections and what they relate to; running the workload's
    /// egress first would decide nothing and cost the kernel's validation a walk of every
    /// policy from this hook. Accept and Return run the workload's egress policy first (and
    /// its endpoint's chain, which drops what egress denies), then give that verdict.
    static func inputRules(_ config: CalcConfig) -> [NFTRule] {
        let wl = RenderNames.workloadInterfaces
        let action = endpointToHost(config)
        guard action != .drop else {
            return unknownInterface(config, input: true) + [
                NFTRule([.iifnameInSet(wl), .ctState([.established, .related])], verdict: .accept),
                NFTRule([.iifnameInSet(wl)], statements: [.counter], verdict: .drop, comment: "endpoint to host: drop"),
            ]
        }
        return unknownInterface(config, input: true) + [
            NFTRule(statements: [.andMark(~RenderMarks.all)]),
            NFTRule([.iifnameInSet(wl)], verdict: .jump(RenderNames.fromWorkloads)),
        ] + verdictRules(ingress: false) + [
            NFTRule([.iifnameInSet(wl)], verdict: action),
        ]
    }

    /// A workload interface (by felix's prefix) that is no known endpoint's, e.g. a pod's veth
    /// the CNI plugin made before felix has the pod: nothing is evaluated for it, so its traffic
    /// is dropped until it is known (Calico's "unknown interface"), never let through unpoliced.
    /// None without a prefix (a bare `*` would match every interface).
    static func unknownInterface(_ config: CalcConfig, input: Bool) -> [NFTRule] {
        guard !config.interfacePrefix.isEmpty else { return [] }
        let prefix = config.interfacePrefix + "*", wl = RenderNames.workloadInterfaces
        return [NFTRule(input ? [.iifname(prefix), .iifnameInSet(wl, negated: true)] : [.oifname(prefix), .oifnameInSet(wl, negated: true)],
                        statements: [.counter], verdict: .drop, comment: "unknown workload interface")]
    }

    private static func endpointToHost(_ config: CalcConfig) -> NFTVerdict {
        switch config.endpointToHostAction.lowercased() {
        case "accept": return .accept
        case "return": return .return
        default: return .drop
        }
    }

    /// A policy's chains (those of its types) with the value sets their rules name.
    static func policyChains(_ key: PolicyKey, _ policy: Policy, _ rules: RuleRenderer) -> [ChainPiece] {
        var out: [ChainPiece] = []
        if policy.types.ingress { out += ruleChain(RenderNames.policyChain(key, ingress: true), policy.ingress, rules) }
        if policy.types.egress { out += ruleChain(RenderNames.policyChain(key, ingress: false), policy.egress, rules) }
        return out
    }

    static func profileChains(_ name: String, _ profile: Profile, _ rules: RuleRenderer) -> [ChainPiece] {
        ruleChain(RenderNames.profileChain(name, ingress: true), profile.ingress, rules)
            + ruleChain(RenderNames.profileChain(name, ingress: false), profile.egress, rules)
    }

    /// A chain or a set of a policy or profile.
    enum ChainPiece: Equatable {
        case chain(NFTChain)
        case set(NFTSet)

        var name: String {
            switch self {
            case .chain(let c): return c.name
            case .set(let s): return s.name
            }
        }

        func add(to ruleset: inout NFTRuleset) {
            switch self {
            case .chain(let c): ruleset.add(c)
            case .set(let s): ruleset.add(s)
            }
        }
    }

    static func ruleChain(_ name: String, _ policyRules: [PolicyRule], _ renderer: RuleRenderer) -> [ChainPiece] {
        var sets: [NFTSet] = []
        var rules: [NFTRule] = []
        for (rule, slot) in zip(policyRules, RuleShape.ordinals(policyRules)) {
            rules += renderer.render(rule, owner: name, shape: slot.shape, ordinal: slot.ordinal, sets: &sets)
        }
        return [.chain(NFTChain(name: name, rules: rules))] + sets.map { .set($0) }
    }

    /// Every selector and named-port set in both versions.
    static func ipSets(_ state: DataplaneState) -> [NFTSet] {
        state.ipSets.flatMap { ipSets($0.key, $0.value, ipv6: state.config.ipv6) }
    }

    /// The nftables sets of one IP set, one per IP version: addresses for a selector; addresses
    /// and ports for a named port (of the protocol its rules name), so that a pod whose name
    /// resolves to a port no other pod uses is one element, not a set and rules of its own.
    static func ipSets(_ id: IPSetID, _ members: IPSetMembers, ipv6: Bool) -> [NFTSet] {
        var out: [NFTSet] = []
        let versions = ipv6 ? [false, true] : [false]
        switch id {
        case .selector:
            for v6 in versions {
                out.append(addressSet(RenderNames.selectorSet(id, ipv6: v6), ipv6: v6, members.nets.filter { $0.isIPv6 == v6 }))
            }
        case .namedPort:
            for v6 in versions {
                out.append(NFTSet(name: RenderNames.namedPortSet(id, ipv6: v6), type: v6 ? .ipv6AddrService : .ipv4AddrService,
                                  elements: Set(members.ports.compactMap { namedPortElement(id, $0, ipv6: v6) })))
            }
        }
        return out
    }

    /// A named-port member as an element of its IP version's set; nil for the other version, or
    /// a protocol other than the one the set's rules name (they test it before the lookup; a
    /// rule with ports always names one, so a set without a protocol is never looked up).
    static func namedPortElement(_ id: IPSetID, _ member: IPPortMember, ipv6: Bool) -> NFTSetElement? {
        guard member.address.isIPv6 == ipv6, case .namedPort(_, let proto?, _) = id, proto == member.protocol
        else { return nil }
        return .addrPort(member.address, member.port)
    }

    /// A set of endpoints' and network sets' addresses: a hash set while it holds single
    /// addresses only (a pod coming or going is one element, looked up in one probe), an
    /// interval set once it holds a CIDR.
    static func addressSet(_ name: String, ipv6: Bool, _ nets: [IPNet]) -> NFTSet {
        NFTSet(name: name, type: ipv6 ? .ipv6Addr : .ipv4Addr, interval: nets.contains { !$0.isSingleAddress },
               elements: Set(nets.map { .net($0) }))
    }
}
