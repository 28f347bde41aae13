import Core

extension RulesetRenderer {
    /// The rules after a shared chain that turn its accept mark into the endpoint's verdict:
    ///
    /// - from a workload (egress): allowed goes on (so the destination's ingress runs next),
    ///   anything else is dropped;
    /// - to a workload (ingress): allowed is accepted, anything else is dropped.
    ///
    /// Each outcome looks the interface up in a set of all workload interfaces whose elements
    /// carry counters, so every endpoint still has its own count of what it allowed and dropped.
    /// Why not a chain per endpoint reached through a verdict map: the kernel re-validates every
    /// rule reachable from a base chain at each commit that adds a rule or a jump, so 2,000
    /// leaf chains made every policy change walk ~4,000 more rules (one to two thirds of such a
    /// commit, docs/benchmarks.md); a plain set's lookup is not walked and its elements (a pod
    /// coming or going) need no validation at all.
    static func verdictRules(ingress: Bool) -> [NFTRule] {
        let accepted = NFTMatch.mark(value: RenderMarks.accept, mask: RenderMarks.accept)
        let allowed = RenderNames.verdictSet(ingress: ingress, allowed: true)
        let denied = RenderNames.verdictSet(ingress: ingress, allowed: false)
        if ingress {
            return [NFTRule([accepted, .oifnameInSet(allowed)], verdict: .accept),
                    NFTRule([.oifnameInSet(denied)], verdict: .drop, comment: "no policy or profile allowed it")]
        }
        let notAccepted = NFTMatch.mark(value: RenderMarks.accept, mask: RenderMarks.accept, negated: true)
        return [NFTRule([accepted, .iifnameInSet(allowed)], comment: "allowed: counted, on to the destination"),
                NFTRule([notAccepted, .iifnameInSet(denied)], verdict: .drop, comment: "no policy or profile allowed it")]
    }

    /// The four counting sets (both directions, both outcomes), each of every workload interface.
    static func verdictSets(_ ifaces: [String]) -> [NFTSet] {
        let elements = Set(ifaces.map { NFTSetElement.ifname($0) })
        return [true, false].flatMap { ingress in
            [true, false].map { allowed in
                NFTSet(name: RenderNames.verdictSet(ingress: ingress, allowed: allowed), type: .ifname, counter: true, elements: elements)
            }
        }
    }
}
