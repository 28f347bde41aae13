/// Adj-RIB-In per peer, the Loc-RIB with best-path and multipath selection, and Adj-RIB-Out per
/// peer (RFC 4271 3.2). Pure: every operation returns what to send and what changed for the
/// kernel; the transport performs it.
///
/// Storage is compact (see `PathTable`): Adj-RIB-In and Loc-RIB share one open-addressing table
/// per family whose slot is a 32-bit path id; attribute sets are interned and refcounted;
/// Adj-RIB-Out holds an interned id of the exported attributes per prefix.
public struct RIB: Sendable {
    public let config: RIBConfig
    public private(set) var peers: [IPAddress: RIBPeer] = [:]
    var table = PathTable()
    /// Paths held per peer (stale ones included).
    private var received: [IPAddress: Int] = [:]
    private var adjRIBOut: [IPAddress: PrefixMap<UInt32>] = [:]
    private var exports = InternTable<PathAttributes>()
    /// The export of one path to one peer for one family: an id in `exports` (0: not sent).
    /// Holds a reference on each id; emptied whenever peers or path ids change meaning.
    private var exportCache: [ExportKey: UInt32] = [:]

    struct ExportKey: Hashable {
        var path: UInt32
        var peer: IPAddress
        var afi: AddressFamily.AFI
    }

    /// List Loc-RIB changes in `RIBChanges.locRIB` (a speaker that feeds the kernel through
    /// `takeKernelChanges` has no use for them).
    private let reportChanges: Bool

    /// `trackKernel`: remember which prefixes' selection changed, for `takeKernelChanges`.
    public init(config: RIBConfig, trackKernel: Bool = false, reportChanges: Bool = true) {
        self.config = config
        self.reportChanges = reportChanges
        table.trackKernel = trackKernel
    }

    // MARK: local routes

    /// Originates `prefix` (ORIGIN IGP, empty AS_PATH; next hop is ours toward each peer).
    public mutating func originate(_ prefix: IPPrefix, attributes: PathAttributes = PathAttributes(origin: .igp, asPath: ASPath())) -> RIBChanges {
        var changes = Pending()
        put(prefix, table.store.retain(PathKey(source: .local, shared: SharedAttributes(attributes), peerRouterID: 0, external: false)), &changes)
        return finish(changes)
    }

    /// Originates many prefixes at once (one recomputation, UPDATEs packed together).
    public mutating func originate(_ prefixes: [IPPrefix]) -> RIBChanges {
        let key = PathKey(source: .local, shared: SharedAttributes(PathAttributes(origin: .igp, asPath: ASPath())), peerRouterID: 0, external: false)
        var changes = Pending()
        let id = table.store.retain(key)
        for p in prefixes {
            table.store.retain(id: id)
            put(p, id, &changes)
        }
        releasePath(id)
        return finish(changes)
    }

    public mutating func withdrawLocal(_ prefix: IPPrefix) -> RIBChanges {
        var changes = Pending()
        remove(prefix, from: .local, &changes)
        return finish(changes)
    }

    // MARK: peers

    /// The session is Established: send it the whole table (the caller follows with End-of-RIB).
    public mutating func peerUp(_ peer: RIBPeer) -> RIBChanges {
        peers[peer.address] = peer
        dropAdjRIBOut(peer.address)
        clearExportCache()
        var out = PeerOutbound()
        var advertised = PrefixMap<UInt32>(placeholder: 0)
        table.forEach { prefix, _ in
            guard let best = table.snapshot(prefix).refs.first else { return }
            let id = exportID(best.id, prefix: prefix, to: peer)
            guard id != 0 else { return }
            exports.retain(id: id)
            advertised[prefix] = id
            out.add(prefix, exports[id])
        }
        adjRIBOut[peer.address] = advertised
        var changes = RIBChanges()
        if !out.isEmpty { changes.outbound[peer.address] = out }
        return changes
    }

    /// The session ended. Routes of `retainFamilies` stay, marked stale (graceful restart);
    /// the peer's other routes are removed.
    public mutating func peerDown(_ address: IPAddress, retainFamilies: Set<AddressFamily> = []) -> RIBChanges {
        peers[address] = nil
        dropAdjRIBOut(address)
        clearExportCache()
        var changes = Pending()
        for prefix in prefixes(from: address) {
            if retainFamilies.contains(prefix.family) { markStale(prefix, from: .peer(address), &changes) }
            else { remove(prefix, from: .peer(address), &changes) }
        }
        return finish(changes)
    }

    /// Removes the peer's routes of `family` that are still stale (End-of-RIB or a GR timer).
    public mutating func purgeStale(_ address: IPAddress, family: AddressFamily) -> RIBChanges {
        var changes = Pending()
        for prefix in prefixes(from: address) where prefix.family == family {
            if table.paths(prefix).contains(where: { $0.stale && table.store[$0.id].source == .peer(address) }) {
                remove(prefix, from: .peer(address), &changes)
            }
        }
        return finish(changes)
    }

    /// The peer asked for our routes again (RFC 2918): everything currently advertised.
    public func refresh(_ address: IPAddress, family: AddressFamily) -> PeerOutbound {
        var out = PeerOutbound()
        adjRIBOut[address]?.forEach { prefix, id in if prefix.family == family { out.add(prefix, exports[id]) } }
        return out
    }

    // MARK: updates

    /// Applies an UPDATE from an Established peer: withdrawals (including RFC 7606
    /// treat-as-withdraw and looped routes), then announcements.
    public mutating func receive(_ update: UpdateMessage, from address: IPAddress) -> RIBChanges {
        guard let peer = peers[address] else { return RIBChanges() }
        var changes = Pending()
        let source = RouteSource.peer(address)
        for p in update.withdrawals { remove(p, from: source, &changes) }
        let announced = update.announcements
        if !announced.isEmpty {
            if let attrs = importAttributes(update.attributes, from: peer) {
                // One interned path per next hop (IPv4 NLRI and MP_REACH may differ), looked up
                // once per UPDATE, not per prefix.
                var ids: [IPAddress: UInt32] = [:]
                for p in announced {
                    let nextHop = p.afi == .ipv4 ? update.attributes.nextHop : update.attributes.mpReach?.nextHop
                    guard let nextHop, nextHop.family == p.afi else { continue }
                    let id: UInt32
                    if let known = ids[nextHop] {
                        id = known
                    } else {
                        var a = attrs
                        a.nextHop = nextHop
                        id = table.store.retain(PathKey(source: source, shared: SharedAttributes(a), peerRouterID: peer.routerID,
                                                        external: peer.asn != config.localAS))
                        ids[nextHop] = id
                    }
                    table.store.retain(id: id)
                    put(p, id, &changes)
                }
                for id in ids.values { releasePath(id) }
            } else {
                for p in announced { remove(p, from: source, &changes) }
            }
        }
        return finish(changes)
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

    // MARK: reading

    /// The Loc-RIB, materialized (tests and diagnostics; the speaker's tables stay compact).
    public var locRIB: [IPPrefix: BestPath.Selection] {
        var out: [IPPrefix: BestPath.Selection] = [:]
        table.forEach { prefix, _ in
            let routes = table.snapshot(prefix).refs.map { table.store[$0.id].route(prefix, stale: $0.stale) }
            if let best = routes.first { out[prefix] = BestPath.Selection(best: best, multipath: routes) }
        }
        return out
    }

    /// Prefixes with a selected route.
    public var locRIBCount: Int { table.count }

    /// Prefixes currently received from the peer (stale ones included).
    public func receivedCount(_ address: IPAddress) -> Int { received[address] ?? 0 }
    public func advertisedCount(_ address: IPAddress) -> Int { adjRIBOut[address]?.count ?? 0 }

    /// Prefixes whose selection changed since the last call (up to `limit`), each once with its
    /// current selection; needs `trackKernel`. Queued as packed prefixes, not as route values,
    /// so a kernel that lags behind a full table costs 8 bytes a waiting IPv4 prefix.
    public mutating func takeKernelChanges(limit: Int) -> [LocRIBChange] {
        table.takePending(limit: limit).map { prefix, snapshot in change(prefix, snapshot.refs) }
    }

    public var kernelChangesPending: Bool { table.pendingCount > 0 }
}

// MARK: - path operations

extension RIB {
    /// Selections as they were before an operation touched them (first touch wins).
    struct Pending {
        var before: [IPPrefix: PathTable.Snapshot] = [:]
    }

    private mutating func note(_ p: IPPrefix, _ changes: inout Pending) {
        if changes.before[p] == nil { changes.before[p] = table.snapshot(p) }
    }

    /// Adds or replaces the path of `id`'s source for `p`, taking over one reference on `id`.
    mutating func put(_ p: IPPrefix, _ id: UInt32, _ changes: inout Pending) {
        note(p, &changes)
        let key = table.store[id]
        var paths = table.paths(p)
        if let i = paths.firstIndex(where: { table.store[$0.id].source == key.source }) {
            if paths[i].id == id, !paths[i].stale {
                table.store.release(id) // identical re-announcement
                return
            }
            let old = paths[i].id
            paths[i] = PathRef(id: id, stale: false)
            settle(p, paths)
            releasePath(old)
        } else {
            paths.append(PathRef(id: id, stale: false))
            if case .peer(let a) = key.source { received[a, default: 0] += 1 }
            settle(p, paths)
        }
    }

    mutating func remove(_ p: IPPrefix, from source: RouteSource, _ changes: inout Pending) {
        var paths = table.paths(p)
        guard let i = paths.firstIndex(where: { table.store[$0.id].source == source }) else { return }
        note(p, &changes)
        let old = paths.remove(at: i).id
        if case .peer(let a) = source {
            received[a, default: 1] -= 1
            if received[a] == 0 { received[a] = nil }
        }
        settle(p, paths)
        releasePath(old)
    }

    mutating func markStale(_ p: IPPrefix, from source: RouteSource, _ changes: inout Pending) {
        var paths = table.paths(p)
        guard let i = paths.firstIndex(where: { table.store[$0.id].source == source }), !paths[i].stale else { return }
        note(p, &changes)
        paths[i].stale = true
        settle(p, paths)
    }

    private mutating func releasePath(_ id: UInt32) {
        if table.store.release(id) { clearExportCache() } // the id may come back meaning another path
    }

    /// Stores `paths` with their selection.
    private mutating func settle(_ p: IPPrefix, _ paths: [PathRef]) {
        table.set(p, paths: paths, selection: paths.count > 1 ? select(p, paths) : paths)
    }

    /// RFC 4271 9.1.2 among several paths: the multipath set, best first.
    func select(_ p: IPPrefix, _ paths: [PathRef]) -> [PathRef] {
        let routes = paths.map { table.store[$0.id].route(p, stale: $0.stale) }
        guard let selection = BestPath.select(routes, config: config) else { return [] }
        return selection.multipath.compactMap { r in paths.first { table.store[$0.id].source == r.source } }
    }

    func prefixes(from address: IPAddress) -> [IPPrefix] {
        guard received[address] != nil else { return [] }
        var out: [IPPrefix] = []
        let source = RouteSource.peer(address)
        table.forEach { prefix, v in
            if v & PathTable.multiBit == 0 {
                if table.store[v & PathTable.idMask].source == source { out.append(prefix) }
            } else if table.paths(prefix).contains(where: { table.store[$0.id].source == source }) {
                out.append(prefix)
            }
        }
        return out
    }

    func change(_ p: IPPrefix, _ refs: [PathRef]) -> LocRIBChange {
        let routes = refs.map { table.store[$0.id].route(p, stale: $0.stale) }
        return LocRIBChange(prefix: p, best: routes.first, multipath: routes)
    }

    /// Compares each touched prefix's selection with its snapshot: Loc-RIB changes (and the
    /// kernel's dirty mark) and every peer's Adj-RIB-Out diff.
    mutating func finish(_ pending: Pending) -> RIBChanges {
        var changes = RIBChanges()
        for (prefix, before) in pending.before {
            let now = table.snapshot(prefix)
            if now != before {
                if reportChanges { changes.locRIB.append(change(prefix, now.refs)) }
                table.markDirty(prefix)
            }
            guard !peers.isEmpty else { continue }
            let best = now.refs.first
            for peer in peers.values {
                let wanted = best.map { exportID($0.id, prefix: prefix, to: peer) } ?? 0
                let had = adjRIBOut[peer.address]?[prefix] ?? 0
                guard wanted != had else { continue }
                if wanted != 0 { exports.retain(id: wanted) }
                adjRIBOut[peer.address]?[prefix] = wanted == 0 ? nil : wanted
                if wanted != 0 { changes.outbound[peer.address, default: PeerOutbound()].add(prefix, exports[wanted]) }
                else { changes.outbound[peer.address, default: PeerOutbound()].remove(prefix) }
                exports.release(had)
            }
        }
        changes.locRIB.sort { $0.prefix < $1.prefix }
        return changes
    }

    /// The interned attributes to send `peer` for path `path` of `prefix` (0: none), cached
    /// per path, peer and family: export depends on nothing else.
    private mutating func exportID(_ path: UInt32, prefix: IPPrefix, to peer: RIBPeer) -> UInt32 {
        let key = ExportKey(path: path, peer: peer.address, afi: prefix.afi)
        if let id = exportCache[key] { return id }
        let route = table.store[path].route(prefix, stale: false)
        let attrs = ExportPolicy.export(route, to: peer, from: route.peerAddress.flatMap { peers[$0] }, config: config)
        let id = attrs.map { exports.retain($0) } ?? 0
        exportCache[key] = id
        return id
    }

    private mutating func clearExportCache() {
        guard !exportCache.isEmpty else { return }
        for id in exportCache.values { exports.release(id) }
        exportCache = [:]
    }

    private mutating func dropAdjRIBOut(_ address: IPAddress) {
        adjRIBOut.removeValue(forKey: address)?.forEach { _, id in exports.release(id) }
    }
}
