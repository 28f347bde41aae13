/// What we send a peer for a Loc-RIB best route (RFC 4271 5 and 9.1.3, RFC 4456 reflection).
/// Returns nil when the route must not be advertised to that peer.
public enum ExportPolicy {
    public static func export(_ route: Route, to peer: RIBPeer, from source: RIBPeer?, config: RIBConfig) -> PathAttributes? {
        let family = route.prefix.family
        guard peer.families.contains(family) else { return nil }
        if route.peerAddress == peer.address { return nil } // never back to where it came from
        let toExternal = peer.asn != config.localAS
        var attrs = route.attributes
        attrs.mpReach = nil
        attrs.mpUnreach = nil
        let selfHop = peer.localAddress(for: route.prefix.afi)

        if toExternal {
            // Sender-side loop prevention: the peer would drop a path that already holds its AS.
            if attrs.asPath?.contains(peer.asn) == true { return nil }
            attrs.asPath = (attrs.asPath ?? ASPath()).prepending(config.localAS)
            attrs.localPref = nil
            // RFC 4271 5.1.4: a MED received from one AS is not passed to another.
            if route.source != .local { attrs.multiExitDisc = nil }
            attrs.originatorID = nil
            attrs.clusterList = nil
            if peer.keepOriginalNextHop, route.source != .local, attrs.nextHop != nil { return attrs }
            guard let selfHop else { return nil }
            attrs.nextHop = selfHop
            return attrs
        }

        // Internal peer.
        if case .peer = route.source, !route.external {
            // iBGP-learned to iBGP: only through reflection (RFC 4456 6).
            let sourceIsClient = source?.routeReflectorClient ?? false
            guard sourceIsClient || peer.routeReflectorClient else { return nil }
            attrs = attrs.reflected(originator: source?.routerID ?? route.peerRouterID, clusterID: config.effectiveClusterID)
            if peer.nextHopSelf, let selfHop { attrs.nextHop = selfHop }
        } else if route.source == .local || peer.nextHopSelf || attrs.nextHop == nil {
            guard let selfHop else { return nil }
            attrs.nextHop = selfHop
        }
        attrs.asPath = attrs.asPath ?? ASPath()
        attrs.localPref = attrs.localPref ?? config.defaultLocalPref
        return attrs
    }
}
