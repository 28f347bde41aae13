import Core

/// The desired dataplane state as felix's nftables ruleset (table `calico`, family inet):
///
/// - `filter-forward` (hook forward) clears our mark bits, then dispatches by input interface
///   to `cali-fw-<iface>` and by output interface to `cali-tw-<iface>` through verdict maps.
/// - `filter-input` (hook input) runs a workload's egress chain, then applies the configured
///   endpoint-to-host action. Traffic the node itself sends passes the output hook, which we
///   leave alone: the node can always reach its workloads.
/// - Endpoint chains accept established/related, drop invalid, then walk the tiers: jump to
///   each policy chain unless an earlier one passed, stop on the accept mark, drop at the end of
///   a tier nobody passed; endpoints with no policies (or that passed every tier) go through
///   their profiles' chains; anything left is dropped.
/// - Policy and profile chains set the accept (0x10000) or pass (0x20000) mark and return.
public enum RulesetRenderer {
    public static func render(_ state: DataplaneState) -> NFTRuleset {
        var ruleset = NFTRuleset(table: RenderNames.table, family: .inet)
        let rules = RuleRenderer(state: state)
        let ifaces = state.endpoints.keys.sorted()

        ruleset.add(NFTChain(name: RenderNames.forwardChain, base: NFTBaseChain(hook: .forward), rules: [
            NFTRule(statements: [.andMark(~RenderMarks.all)]),
            NFTRule(verdict: .vmapIifname(RenderNames.fromWorkloadMap)),
            NFTRule(verdict: .vmapOifname(RenderNames.toWorkloadMap)),
        ]))
        ruleset.add(NFTChain(name: RenderNames.inputChain, base: NFTBaseChain(hook: .input), rules: [
            NFTRule(statements: [.andMark(~RenderMarks.all)]),
            NFTRule(verdict: .vmapIifname(RenderNames.fromWorkloadMap)),
            NFTRule([.iifnameInSet(RenderNames.workloadInterfaces)], verdict: endpointToHost(state.config)),
        ]))
        addInterfaceDispatch(ifaces, to: &ruleset)

        for iface in ifaces {
            guard let plan = state.endpoints[iface] else { continue }
            ruleset.add(endpointChain(plan, ingress: true))
            ruleset.add(endpointChain(plan, ingress: false))
        }
        for (key, policy) in state.policies {
            if policy.types.ingress { ruleset.add(ruleChain(RenderNames.policyChain(key, ingress: true), policy.ingress, rules)) }
            if policy.types.egress { ruleset.add(ruleChain(RenderNames.policyChain(key, ingress: false), policy.egress, rules)) }
        }
        for (name, profile) in state.profiles {
            ruleset.add(ruleChain(RenderNames.profileChain(name, ingress: true), profile.ingress, rules))
            ruleset.add(ruleChain(RenderNames.profileChain(name, ingress: false), profile.egress, rules))
        }
        for set in ipSets(state) { ruleset.add(set) }
        return ruleset
    }

    /// The set of workload interfaces and the two verdict maps that dispatch to their chains.
    static func addInterfaceDispatch(_ ifaces: [String], to ruleset: inout NFTRuleset) {
        ruleset.add(NFTSet(name: RenderNames.workloadInterfaces, type: .ifname, elements: Set(ifaces.map { .ifname($0) })))
        ruleset.add(NFTVerdictMap(name: RenderNames.fromWorkloadMap, elements: Dictionary(uniqueKeysWithValues: ifaces.map {
            ($0, NFTVerdict.jump(RenderNames.fromWorkload($0)))
        })))
        ruleset.add(NFTVerdictMap(name: RenderNames.toWorkloadMap, elements: Dictionary(uniqueKeysWithValues: ifaces.map {
            ($0, NFTVerdict.jump(RenderNames.toWorkload($0)))
        })))
    }

    private static func endpointToHost(_ config: CalcConfig) -> NFTVerdict {
        switch config.endpointToHostAction.lowercased() {
        case "accept": return .accept
        case "return": return .return
        default: return .drop
        }
    }

    /// `cali-tw-<iface>` (ingress to the workload) or `cali-fw-<iface>` (egress from it). The
    /// from-workload chain returns on accept so the forward chain can still apply the
    /// destination's ingress chain.
    static func endpointChain(_ plan: EndpointPlan, ingress: Bool) -> NFTChain {
        let allowed: NFTVerdict = ingress ? .accept : .return
        var rules: [NFTRule] = [
            NFTRule([.ctState([.established, .related])], verdict: .accept),
            NFTRule([.ctState([.invalid])], verdict: .drop),
            NFTRule(statements: [.andMark(~RenderMarks.all)]),
        ]
        let accepted = NFTRule([.mark(value: RenderMarks.accept, mask: RenderMarks.accept)], verdict: allowed)
        let notPassed = NFTMatch.mark(value: 0, mask: RenderMarks.pass)
        let tiers = ingress ? plan.ingress : plan.egress
        for tier in tiers {
            for key in tier.policies {
                rules.append(NFTRule([notPassed], verdict: .jump(RenderNames.policyChain(key, ingress: ingress))))
                rules.append(accepted)
            }
            rules.append(NFTRule([notPassed], verdict: .drop, comment: "end of tier \(tier.name)"))
            rules.append(NFTRule(statements: [.andMark(~RenderMarks.pass)]))
        }
        for profile in plan.profiles {
            rules.append(NFTRule(verdict: .jump(RenderNames.profileChain(profile, ingress: ingress))))
            rules.append(accepted)
        }
        rules.append(NFTRule(verdict: .drop, comment: "no policy or profile allowed it"))
        return NFTChain(name: ingress ? RenderNames.toWorkload(plan.interfaceName) : RenderNames.fromWorkload(plan.interfaceName),
                        rules: rules)
    }

    static func ruleChain(_ name: String, _ policyRules: [PolicyRule], _ renderer: RuleRenderer) -> NFTChain {
        NFTChain(name: name, rules: policyRules.flatMap { renderer.render($0, comment: nil) })
    }

    /// Every selector set in both versions, and the named-port sets split by resolved port.
    static func ipSets(_ state: DataplaneState) -> [NFTSet] {
        state.ipSets.flatMap { ipSets($0.key, $0.value) }
    }

    /// The nftables sets of one IP set: both versions of a selector set; per resolved port and
    /// version for a named-port set.
    static func ipSets(_ id: IPSetID, _ members: IPSetMembers) -> [NFTSet] {
        var out: [NFTSet] = []
        switch id {
        case .selector:
            for v6 in [false, true] {
                out.append(NFTSet(name: RenderNames.selectorSet(id, ipv6: v6), type: v6 ? .ipv6Addr : .ipv4Addr, interval: true,
                                  elements: Set(members.nets.filter { $0.isIPv6 == v6 }.map { .net($0) })))
            }
        case .namedPort:
            let groups = Dictionary(grouping: members.ports) { PortKey(proto: $0.protocol, port: $0.port) }
            for (key, group) in groups {
                for v6 in [false, true] {
                    out.append(NFTSet(name: RenderNames.namedPortSet(id, proto: key.proto, port: key.port, ipv6: v6),
                                      type: v6 ? .ipv6Addr : .ipv4Addr, interval: true,
                                      elements: Set(group.filter { $0.address.isIPv6 == v6 }.map { .net($0.address) })))
                }
            }
        }
        return out
    }

    private struct PortKey: Hashable {
        var proto: IPProtocol
        var port: UInt16
    }
}
