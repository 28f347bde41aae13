import Core

extension RulesetRenderer {
    /// Sources a workload may use without a route back through its interface: IPv6 link-local
    /// and unspecified (neighbour discovery and DAD need them; they are never forwarded).
    static let spoofExempt: [IPNet] = [IPNet(parsing: "fe80::/10")!, IPNet(parsing: "::/128")!]

    /// Anti-spoofing for every workload at once, as Calico's rpfilter in raw PREROUTING: a
    /// packet from a workload interface whose source has no route back through that interface
    /// is dropped before conntrack sees it. The per-pod /32 and /128 routes via the cali
    /// interface (CNI and the endpoint manager make them) are what lets a pod's own addresses
    /// through. One rule per family (the IPv6 one with its exemptions).
    ///
    /// Why one check for all endpoints and not a rule per endpoint: the kernel walks every rule
    /// reachable from a base chain at each commit that adds a rule, so per-endpoint rules cost
    /// every policy change a visit each; this is two rules whatever the number of endpoints.
    static func reversePathChain() -> NFTChain {
        let rules = [4, 6].map { version in
            let exempt = version == 6 ? spoofExempt.map { NFTMatch.addr(.source, $0, negated: true) } : []
            return NFTRule([.iifnameInSet(RenderNames.workloadInterfaces), .ipVersion(version)] + exempt + [.sourceRouteMissing()],
                           statements: [.counter], verdict: .drop, comment: "spoofed source")
        }
        return NFTChain(name: RenderNames.rawPreroutingChain, base: NFTBaseChain(hook: .prerouting, priority: -300), rules: rules)
    }
}
