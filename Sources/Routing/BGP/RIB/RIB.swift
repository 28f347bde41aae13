/// Adj-RIB-In per peer, the Loc-RIB with best-path and multipath selection, and Adj-RIB-Out per
/// peer (RFC 4271 3.2). Pure: every operation returns what to send and what changed for the
/// kernel; the transport performs it.
public struct RIB: Sendable {
    public let config: RIBConfig
    public private(set) var peers: [IPAddress: RIBPeer] = [:]
    public private(set) var adjRIBIn: [IPAddress: [IPPrefix: Route]] = [:]
    public private(set) var localRoutes: [IPPrefix: Route] = [:]
    public private(set) var locRIB: [IPPrefix: BestPath.Selection] = [:]
    public private(set) var adjRIBOut: [IPAddress: [IPPrefix: PathAttributes]] = [:]

    public init(config: RIBConfig) { self.config = config }

    // MARK: local routes

    /// Originates `prefix` (ORIGIN IGP, empty AS_PATH; next hop is ours toward each peer).
    public mutating func originate(_ prefix: IPPrefix, attributes: PathAttributes = PathAttributes(origin: .igp, asPath: ASPath())) -> RIBChanges {
        localRoutes[prefix] = Route(prefix: prefix, source: .local, attributes: attributes)
        return recompute([prefix])
    }

    /// Originates many prefixes at once (one recomputation, UPDATEs packed together).
    public mutating func originate(_ prefixes: [IPPrefix]) -> RIBChanges {
        let shared = SharedAttributes(PathAttributes(origin: .igp, asPath: ASPath()))
        for p in prefixes { localRoutes[p] = Route(prefix: p, source: .local, shared: shared) }
        return recompute(prefixes)
    }

    public mutating func withdrawLocal(_ prefix: IPPrefix) -> RIBChanges {
        guard localRoutes.removeValue(forKey: prefix) != nil else { return RIBChanges() }
        return recompute([prefix])
    }

    // MARK: peers

    /// The session is Established: send it the whole table (the caller follows with End-of-RIB).
    public mutating func peerUp(_ peer: RIBPeer) -> RIBChanges {
        peers[peer.address] = peer
        adjRIBOut[peer.address] = [:]
        var changes = RIBChanges()
        var out = PeerOutbound()
        for (prefix, selection) in locRIB {
            guard let attrs = exportAttributes(selection.best, to: peer) else { continue }
            adjRIBOut[peer.address, default: [:]][prefix] = attrs
            out.add(prefix, attrs)
        }
        if !out.isEmpty { changes.outbound[peer.address] = out }
        return changes
    }

    /// The session ended. Routes of `retainFamilies` stay, marked stale (graceful restart);
    /// the peer's other routes are removed.
    public mutating func peerDown(_ address: IPAddress, retainFamilies: Set<AddressFamily> = []) -> RIBChanges {
        peers[address] = nil
        adjRIBOut[address] = nil
        var dirty: [IPPrefix] = []
        // Taken out so that mutating it does not copy the whole table (copy-on-write).
        var table = adjRIBIn.removeValue(forKey: address) ?? [:]
        for (prefix, route) in table {
            if retainFamilies.contains(prefix.family) {
                if !route.stale { table[prefix]?.stale = true; dirty.append(prefix) }
            } else {
                table[prefix] = nil
                dirty.append(prefix)
            }
        }
        adjRIBIn[address] = table.isEmpty ? nil : table
        return recompute(dirty)
    }

    /// Removes the peer's routes of `family` that are still stale (End-of-RIB or a GR timer).
    public mutating func purgeStale(_ address: IPAddress, family: AddressFamily) -> RIBChanges {
        guard var table = adjRIBIn.removeValue(forKey: address) else { return RIBChanges() }
        let gone = table.values.filter { $0.stale && $0.prefix.family == family }.map(\.prefix)
        for p in gone { table[p] = nil }
        adjRIBIn[address] = table.isEmpty ? nil : table
        return recompute(gone)
    }

    /// The peer asked for our routes again (RFC 2918): everything currently advertised.
    public func refresh(_ address: IPAddress, family: AddressFamily) -> PeerOutbound {
        var out = PeerOutbound()
        for (prefix, attrs) in adjRIBOut[address] ?? [:] where prefix.family == family { out.add(prefix, attrs) }
        return out
    }

    // MARK: updates

    /// Applies an UPDATE from an Established peer: withdrawals (including RFC 7606
    /// treat-as-withdraw and looped routes), then announcements.
    public mutating func receive(_ update: UpdateMessage, from address: IPAddress) -> RIBChanges {
        guard let peer = peers[address] else { return RIBChanges() }
        // Taken out so that mutating it does not copy the whole table (copy-on-write).
        var table = adjRIBIn.removeValue(forKey: address) ?? [:]
        var dirty: [IPPrefix] = []
        for p in update.withdrawals where table.removeValue(forKey: p) != nil { dirty.append(p) }
        let announced = update.announcements
        if !announced.isEmpty {
            if let attrs = importAttributes(update.attributes, from: peer) {
                // One shared box per next hop (IPv4 NLRI and MP_REACH may differ).
                var boxes: [IPAddress: SharedAttributes] = [:]
                for p in announced {
                    let nextHop = p.afi == .ipv4 ? update.attributes.nextHop : update.attributes.mpReach?.nextHop
                    guard let nextHop, nextHop.family == p.afi else { continue }
                    let shared = boxes[nextHop] ?? {
                        var a = attrs
                        a.nextHop = nextHop
                        let made = SharedAttributes(a)
                        boxes[nextHop] = made
                        return made
                    }()
                    table[p] = Route(prefix: p, source: .peer(address), shared: shared, peerRouterID: peer.routerID,
                                     external: peer.asn != config.localAS)
                    dirty.append(p)
                }
            } else {
                for p in announced where table.removeValue(forKey: p) != nil { dirty.append(p) }
            }
        }
        adjRIBIn[address] = table.isEmpty ? nil : table
        return recompute(dirty)
    }

    /// The attributes to store, or nil when the path is a loop and must be ignored.
    func importAttributes(_ received: PathAttributes, from peer: RIBPeer) -> PathAttributes? {
        var attrs = received
        attrs.mpReach = nil
        attrs.mpUnreach = nil
        if peer.asn != config.localAS {
            if attrs.asPath?.contains(config.localAS) == true { return nil } // RFC 4271 9.1.2
            attrs.localPref = nil // RFC 4271 5.1.5: not from external peers
            attrs.originatorID = nil
            attrs.clusterList = nil
        } else if attrs.isReflectionLoop(routerID: config.routerID, clusterID: config.effectiveClusterID) {
            return nil
        }
        return attrs
    }

    // MARK: selection and export

    func exportAttributes(_ route: Route, to peer: RIBPeer) -> PathAttributes? {
        ExportPolicy.export(route, to: peer, from: route.peerAddress.flatMap { peers[$0] }, config: config)
    }

    func candidates(_ prefix: IPPrefix) -> [Route] {
        var out: [Route] = localRoutes[prefix].map { [$0] } ?? []
        for table in adjRIBIn.values { if let r = table[prefix] { out.append(r) } }
        return out
    }

    /// Re-selects the best route for each dirty prefix and diffs every peer's Adj-RIB-Out.
    mutating func recompute(_ dirty: [IPPrefix]) -> RIBChanges {
        var changes = RIBChanges()
        var outbound: [IPAddress: PeerOutbound] = [:]
        for prefix in Set(dirty) {
            let selection = BestPath.select(candidates(prefix), config: config)
            if selection != locRIB[prefix] {
                locRIB[prefix] = selection
                changes.locRIB.append(LocRIBChange(prefix: prefix, selection: selection))
            }
            for peer in peers.values {
                let wanted = selection.flatMap { exportAttributes($0.best, to: peer) }
                let had = adjRIBOut[peer.address]?[prefix]
                guard wanted != had else { continue }
                adjRIBOut[peer.address]?[prefix] = wanted
                if let wanted { outbound[peer.address, default: PeerOutbound()].add(prefix, wanted) }
                else { outbound[peer.address, default: PeerOutbound()].remove(prefix) }
            }
        }
        changes.locRIB.sort { $0.prefix < $1.prefix }
        changes.outbound = outbound
        return changes
    }

    /// Prefixes currently received from the peer (stale ones included).
    public func receivedCount(_ address: IPAddress) -> Int { adjRIBIn[address]?.count ?? 0 }
    public func advertisedCount(_ address: IPAddress) -> Int { adjRIBOut[address]?.count ?? 0 }
}
