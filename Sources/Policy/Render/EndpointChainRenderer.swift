import Core

extension RulesetRenderer {
    /// An endpoint's two chains, reached through the dispatch maps (`iifname vmap
    /// @cali-fw-dispatch`, `oifname vmap @cali-tw-dispatch`) once the shared chain of the same
    /// direction has evaluated its policies and profiles into the accept mark:
    ///
    /// - `cali-fw-<iface>` (from the workload): returns when allowed, so the destination's
    ///   ingress runs next, else drops. (Spoofed sources never get here: `reversePathChain`.)
    /// - `cali-tw-<iface>` (to the workload): accepts when allowed, else drops.
    ///
    /// Each rule counts, so `nft list chain inet calico cali-tw-<iface>` shows per endpoint what
    /// was allowed and what no policy or profile allowed. The policies themselves are jumped to
    /// from the shared chains, guarded by the interface sets of the endpoints they apply to:
    /// nf_tables re-validates every rule reachable from a base chain at each commit that adds a
    /// rule, so jumps to the policies from every endpoint's chain would make each policy change
    /// walk every endpoint's list of policies; these chains jump nowhere, two rules each, and
    /// depend on the interface alone.
    static func endpointChains(_ iface: String) -> [NFTChain] {
        [endpointChain(iface, ingress: true), endpointChain(iface, ingress: false)]
    }

    static func endpointChain(_ iface: String, ingress: Bool) -> NFTChain {
        let accepted = NFTMatch.mark(value: RenderMarks.accept, mask: RenderMarks.accept)
        return NFTChain(name: RenderNames.endpointChain(iface, ingress: ingress), rules: [
            NFTRule([accepted], statements: [.counter], verdict: ingress ? .accept : .return,
                    comment: ingress ? "allowed" : "allowed: on to the destination"),
            NFTRule(statements: [.counter], verdict: .drop, comment: "no policy or profile allowed it"),
        ])
    }

    /// The interface-to-endpoint-chain verdict maps of both directions.
    static func dispatchMaps(_ ifaces: [String]) -> [NFTVerdictMap] {
        [true, false].map { ingress in
            NFTVerdictMap(name: RenderNames.dispatchMap(ingress: ingress), elements: Dictionary(uniqueKeysWithValues: ifaces.map {
                ($0, NFTVerdict.jump(RenderNames.endpointChain($0, ingress: ingress)))
            }))
        }
    }

    /// After a shared chain: the endpoint's chain of that direction gives the verdict. Should
    /// the map lack the interface (it never does: both come from the same endpoints, in the
    /// same batch), the packet is dropped unless allowed, never let through unevaluated.
    static func verdictRules(ingress: Bool) -> [NFTRule] {
        let wl = RenderNames.workloadInterfaces, map = RenderNames.dispatchMap(ingress: ingress)
        if ingress {
            return [NFTRule([], verdict: .vmapOifname(map)),
                    NFTRule([.oifnameInSet(wl)], statements: [.counter], verdict: .drop, comment: "no endpoint chain")]
        }
        let notAccepted = NFTMatch.mark(value: RenderMarks.accept, mask: RenderMarks.accept, negated: true)
        return [NFTRule([], verdict: .vmapIifname(map)),
                NFTRule([notAccepted, .iifnameInSet(wl)], statements: [.counter], verdict: .drop, comment: "no endpoint chain")]
    }
}
