import Core

extension RulesetRenderer {
    /// An endpoint's two leaf chains, reached through the dispatch maps after the shared chain
    /// of the same direction has evaluated its policies into the accept mark:
    ///
    /// - `cali-fw-<iface>` (from the workload): returns when allowed so the destination's
    ///   ingress runs next, else drops. (Spoofed sources never get here: `reversePathChain`.)
    /// - `cali-tw-<iface>` (to the workload): accepts when allowed, else drops.
    ///
    /// Leaves never jump, so the kernel's jump-graph validation visits each once per path and
    /// finds nothing below it; they are two rules each because every rule in them is visited
    /// once per endpoint at each validating commit. Their content depends only on the interface.
    static func leafChains(_ plan: EndpointPlan) -> [NFTChain] {
        [leafChain(plan.interfaceName, ingress: true), leafChain(plan.interfaceName, ingress: false)]
    }

    static func leafChain(_ iface: String, ingress: Bool) -> NFTChain {
        let accepted = NFTMatch.mark(value: RenderMarks.accept, mask: RenderMarks.accept)
        let denied = NFTRule(statements: [.counter], verdict: .drop, comment: "no policy or profile allowed it")
        return NFTChain(name: RenderNames.leafChain(iface, ingress: ingress),
                        rules: [NFTRule([accepted], statements: [.counter], verdict: ingress ? .accept : .return), denied])
    }

    /// The interface-to-leaf verdict maps of both directions.
    static func dispatchMaps(_ ifaces: [String]) -> [NFTVerdictMap] {
        [true, false].map { ingress in
            NFTVerdictMap(name: RenderNames.dispatchMap(ingress: ingress), elements: Dictionary(uniqueKeysWithValues: ifaces.map {
                ($0, NFTVerdict.jump(RenderNames.leafChain($0, ingress: ingress)))
            }))
        }
    }
}
