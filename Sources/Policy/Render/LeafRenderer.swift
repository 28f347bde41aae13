import Core

extension RulesetRenderer {
    /// An endpoint's two leaf chains, reached through the dispatch maps after the shared chain
    /// of the same direction has evaluated its policies into the accept mark:
    ///
    /// - `cali-fw-<iface>` (from the workload): drops a source address that is not one of the
    ///   endpoint's (per family; IPv6 link-local and unspecified sources are exempt, neighbour
    ///   discovery needs them and they are never forwarded), then returns when allowed so the
    ///   destination's ingress runs next, else drops.
    /// - `cali-tw-<iface>` (to the workload): accepts when allowed, else drops.
    ///
    /// Leaves never jump, so the kernel's jump-graph validation visits each once per path and
    /// finds nothing below it. Their content depends only on the interface and its addresses.
    static func leafChains(_ plan: EndpointPlan) -> [NFTChain] {
        [leafChain(plan, ingress: true), leafChain(plan, ingress: false)]
    }

    static func leafChain(_ plan: EndpointPlan, ingress: Bool) -> NFTChain {
        let iface = plan.interfaceName
        let accepted = NFTMatch.mark(value: RenderMarks.accept, mask: RenderMarks.accept)
        let denied = NFTRule(statements: [.counter], verdict: .drop, comment: "no policy or profile allowed it")
        guard !ingress else {
            return NFTChain(name: RenderNames.toWorkload(iface), rules: [NFTRule([accepted], statements: [.counter], verdict: .accept), denied])
        }
        let rules = antiSpoofing(plan.addresses) + [NFTRule([accepted], statements: [.counter], verdict: .return), denied]
        return NFTChain(name: RenderNames.fromWorkload(iface), rules: rules)
    }

    /// Sources a workload may use besides its own addresses: IPv6 link-local and unspecified.
    static let spoofExempt: [IPNet] = [IPNet(parsing: "fe80::/10")!, IPNet(parsing: "::/128")!]

    /// One drop per family: a source that is none of the endpoint's addresses of that family.
    static func antiSpoofing(_ addresses: [IPNet]) -> [NFTRule] {
        [4, 6].map { version in
            let own = addresses.filter { $0.ipVersion == version }.sorted()
            let allowed = own + (version == 6 ? spoofExempt : [])
            return NFTRule([.ipVersion(version)] + allowed.map { .addr(.source, $0, negated: true) }, statements: [.counter],
                           verdict: .drop, comment: "spoofed source")
        }
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
