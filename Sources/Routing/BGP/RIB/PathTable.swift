/// What many routes' paths share: where from, the attributes (next hop included), the peer's
/// identity. Interned, so a path costs one 32-bit id.
struct PathKey: Hashable, Sendable {
    var source: RouteSource
    var shared: SharedAttributes
    var peerRouterID: UInt32
    var external: Bool

    func route(_ prefix: IPPrefix, stale: Bool) -> Route {
        Route(prefix: prefix, source: source, shared: shared, peerRouterID: peerRouterID, external: external, stale: stale)
    }
}

/// One path of a prefix: the interned key and the graceful-restart stale mark.
struct PathRef: Hashable, Sendable {
    var id: UInt32
    var stale: Bool
}

/// Adj-RIB-In of every peer and the Loc-RIB in one compact table: per prefix a 32-bit slot that
/// holds the only path inline (the common case) or points to `multi` when several peers offer
/// the prefix; the selected multipath set is the inline path itself or kept beside the paths.
/// A bit per slot marks prefixes whose selection the kernel has not been given yet.
struct PathTable: Sendable {
    static let multiBit: UInt32 = 1 << 31
    static let staleBit: UInt32 = 1 << 30
    static let dirtyBit: UInt32 = 1 << 29
    static let idMask: UInt32 = dirtyBit - 1

    struct Multi: Sendable {
        var paths: [PathRef]
        /// The multipath set, best first.
        var selection: [PathRef]
    }

    /// The selection of one prefix as it was, to tell whether an operation changed it.
    enum Snapshot: Equatable {
        case none
        case single(PathRef)
        case multi([PathRef])

        var refs: [PathRef] {
            switch self {
            case .none: return []
            case .single(let r): return [r]
            case .multi(let rs): return rs
            }
        }
    }

    private(set) var slots = PrefixMap<UInt32>(placeholder: 0)
    private(set) var multi: [IPPrefix: Multi] = [:]
    var store = InternTable<PathKey>()
    /// Prefixes whose dirty bit is set or that left the table since the kernel last asked.
    private var pending = PrefixQueue()
    var trackKernel = false

    var count: Int { slots.count }
    var pendingCount: Int { pending.count }

    func paths(_ p: IPPrefix) -> [PathRef] {
        guard let v = slots[p] else { return [] }
        if v & Self.multiBit != 0 { return multi[p]!.paths }
        return [PathRef(id: v & Self.idMask, stale: v & Self.staleBit != 0)]
    }

    func snapshot(_ p: IPPrefix) -> Snapshot {
        guard let v = slots[p] else { return .none }
        if v & Self.multiBit != 0 {
            let sel = multi[p]!.selection
            return sel.isEmpty ? .none : .multi(sel)
        }
        return .single(PathRef(id: v & Self.idMask, stale: v & Self.staleBit != 0))
    }

    /// Stores the paths of `p` (ids already retained by the caller) and their selection.
    mutating func set(_ p: IPPrefix, paths: [PathRef], selection: [PathRef]) {
        let old = slots[p]
        let dirty = (old ?? 0) & Self.dirtyBit
        switch paths.count {
        case 0:
            guard old != nil else { return }
            slots[p] = nil
            multi[p] = nil
            if trackKernel, dirty == 0 { pending.append(p) } // the kernel must hear of the removal
        case 1:
            precondition(paths[0].id <= Self.idMask, "path id space exhausted")
            slots[p] = paths[0].id | (paths[0].stale ? Self.staleBit : 0) | dirty
            if old.map({ $0 & Self.multiBit != 0 }) == true { multi[p] = nil }
        default:
            slots[p] = Self.multiBit | dirty
            multi[p] = Multi(paths: paths, selection: selection)
        }
    }

    /// The selection of `p` changed: queue it for the kernel (once until taken).
    mutating func markDirty(_ p: IPPrefix) {
        guard trackKernel, let v = slots[p], v & Self.dirtyBit == 0 else { return }
        slots[p] = v | Self.dirtyBit
        pending.append(p)
    }

    /// Up to `limit` prefixes whose selection the kernel has not seen, each once, with their
    /// current snapshot (`.none`: removed).
    mutating func takePending(limit: Int) -> [(IPPrefix, Snapshot)] {
        var out: [(IPPrefix, Snapshot)] = []
        while out.count < limit, let p = pending.popFirst() {
            if let v = slots[p] {
                guard v & Self.dirtyBit != 0 else { continue } // already given (queued twice)
                slots[p] = v & ~Self.dirtyBit
                out.append((p, snapshot(p)))
            } else {
                out.append((p, .none))
            }
        }
        return out
    }

    func forEach(_ body: (IPPrefix, UInt32) -> Void) { slots.forEach(body) }
}
