/// RFC 4271 9.1.2 route selection, as a sequence of eliminations so that MED is compared only
/// among routes from the same neighbouring AS (9.1.2.2 c), without the non-transitive pairwise
/// comparison that makes the outcome depend on arrival order.
public enum BestPath {
    /// The winner, and every route that ties with it up to (not including) the router-ID
    /// tie-breaks: the equal-cost multipath set, best first.
    public struct Selection: Hashable, Sendable {
        public var best: Route
        /// The multipath set without `best` (empty, so no allocation, in the common single-path case).
        public var others: [Route]

        public init(best: Route, multipath: [Route]) {
            self.best = best
            others = multipath.count <= 1 ? [] : multipath.filter { $0 != best }
        }

        /// `best` and the routes that tie with it, best first.
        public var multipath: [Route] { [best] + others }
    }

    public static func select(_ candidates: [Route], config: RIBConfig) -> Selection? {
        guard !candidates.isEmpty else { return nil }
        if candidates.count == 1 { return Selection(best: candidates[0], multipath: candidates) } // the common case
        var routes = candidates
        // Our own routes win, as a static route does over BGP in BIRD's preference order.
        keepBest(&routes) { $0.source == .local ? 1 : 0 }
        keepBest(&routes) { Int($0.attributes.localPref ?? config.defaultLocalPref) }
        keepBest(&routes) { -($0.attributes.asPath?.length ?? 0) }
        keepBest(&routes) { -Int(($0.attributes.origin ?? .incomplete).rawValue) }
        routes = eliminateHigherMED(routes, localAS: config.localAS)
        keepBest(&routes) { $0.external ? 1 : 0 }
        let ordered = routes.sorted(by: tieBreakOrder)
        // Multipath needs distinct next hops; the same hop twice adds nothing to the kernel route.
        var seen: Set<IPAddress?> = []
        let multipath = ordered.filter { seen.insert($0.nextHop).inserted }
        return Selection(best: ordered[0], multipath: multipath)
    }

    /// Keeps the routes with the highest score.
    static func keepBest(_ routes: inout [Route], score: (Route) -> Int) {
        guard routes.count > 1 else { return }
        let top = routes.map(score).max()!
        routes.removeAll { score($0) != top }
    }

    /// The AS a route was learned from: the first AS of its path, or ours for an empty path.
    static func neighbourAS(_ route: Route, localAS: UInt32) -> UInt32 {
        route.attributes.asPath?.firstAS ?? localAS
    }

    static func eliminateHigherMED(_ routes: [Route], localAS: UInt32) -> [Route] {
        guard routes.count > 1 else { return routes }
        var lowest: [UInt32: UInt32] = [:]
        for r in routes {
            let asn = neighbourAS(r, localAS: localAS)
            let med = r.attributes.multiExitDisc ?? 0 // RFC 4271 9.1.2.2 c: missing MED is 0
            lowest[asn] = min(lowest[asn] ?? med, med)
        }
        return routes.filter { ($0.attributes.multiExitDisc ?? 0) == lowest[neighbourAS($0, localAS: localAS)] }
    }

    /// RFC 4271 9.1.2.2 f and g with RFC 4456 9: lowest originator or router ID, then the
    /// shortest CLUSTER_LIST, then the lowest peer address; fresh routes before stale ones.
    static func tieBreakOrder(_ a: Route, _ b: Route) -> Bool {
        let idA = a.attributes.originatorID ?? a.peerRouterID, idB = b.attributes.originatorID ?? b.peerRouterID
        if idA != idB { return idA < idB }
        let clA = a.attributes.clusterList?.count ?? 0, clB = b.attributes.clusterList?.count ?? 0
        if clA != clB { return clA < clB }
        if a.stale != b.stale { return !a.stale }
        switch (a.peerAddress, b.peerAddress) {
        case (nil, nil): return false
        case (nil, _): return true
        case (_, nil): return false
        case (let x?, let y?): return x < y
        }
    }
}
