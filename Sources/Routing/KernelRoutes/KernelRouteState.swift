import Core

/// One step of kernel programming.
public enum KernelRouteOp: Hashable, Sendable {
    /// A destination we hold no route for: add without replacing, so that a route someone
    /// else installed at the same key is never overwritten.
    case add(KernelRoute)
    /// A route of ours whose next hops or type changed.
    case replace(KernelRoute)
    /// A route of ours no longer wanted.
    case delete(KernelRoute)
}

/// What the kernel should hold and what we believe we installed, keyed by destination (pure).
/// Loc-RIB changes and resyncs both come out as the smallest list of operations; the programmer
/// reports back what happened.
///
/// Compact: a route is stored as its destination (the table key, packed) and a 32-bit id of its
/// *template*, the route without destination (type, next hops, table, protocol), interned and
/// refcounted; a million routes over a few next-hop sets cost 12 bytes a slot. The slot holds
/// the desired id and whether the installed route is that one (the steady state), none, or
/// another, which then sits in a side table (changes in flight, routes adopted after a restart).
public struct KernelRouteState: Sendable {
    public var planner: KernelRoutePlanner
    /// Desired template id (0: none) and the installed route's state bits; see `pair`.
    private var table = PrefixMap<UInt32>(placeholder: 0)
    /// Installed ids that differ from the desired one.
    private var otherInstalled: [IPPrefix: UInt32] = [:]
    private static let inSync: UInt32 = 1 << 31
    private static let installedOther: UInt32 = 1 << 30
    private static let idMask: UInt32 = installedOther - 1
    private var templates = InternTable<KernelRoute>()
    /// Destinations held by a route we did not install; left alone until a resync.
    public private(set) var blocked: Set<IPPrefix> = []
    public private(set) var installedCount = 0

    public init(planner: KernelRoutePlanner) { self.planner = planner }

    /// Routes of our protocol that we know are in the kernel.
    public var installedRoutes: [KernelRoute] {
        var out: [KernelRoute] = []
        table.forEach { key, v in
            let installed = decode(key, v).installed
            if installed != 0 { out.append(route(installed, at: key)) }
        }
        return out
    }

    /// Applies Loc-RIB changes; returns the operations that bring the kernel in line.
    public mutating func apply(_ changes: [LocRIBChange]) -> [KernelRouteOp] {
        var touched: [IPPrefix] = []
        touched.reserveCapacity(changes.count)
        // Routes differing only in destination plan alike: plan each shape once per batch.
        var planned: [Shape: UInt32] = [:]
        for change in changes {
            let shape = Shape(change)
            let id: UInt32
            if let known = planned[shape] {
                id = known
                templates.retain(id: id)
            } else {
                id = planner.route(change).map { templates.retain(Self.template($0)) } ?? 0
                templates.retain(id: id)
                planned[shape] = id
            }
            setDesired(change.prefix, id: id)
            touched.append(change.prefix)
        }
        for id in planned.values { templates.release(id) }
        var ops: [KernelRouteOp] = []
        var done: Set<IPPrefix> = []
        for dest in touched where done.insert(dest).inserted {
            if let op = op(for: dest) { ops.append(op) }
        }
        return ops
    }

    /// Starts over from what the kernel holds of our protocol (after a restart or periodically):
    /// every difference becomes an operation, and blocked destinations are tried again.
    public mutating func resync(kernel: [KernelRoute]) -> [KernelRouteOp] {
        for key in table.prefixes() { setInstalled(key, 0) }
        installedCount = 0
        adopt(kernel: kernel)
        blocked = []
        var ops: [KernelRouteOp] = []
        for dest in table.prefixes().sorted() {
            if let op = op(for: dest) { ops.append(op) }
        }
        return ops
    }

    /// Keeps the old routes of our protocol after a restart without touching them: they are
    /// deleted by the first resync if still unwanted (so forwarding survives our own restart).
    public mutating func adopt(kernel: [KernelRoute]) {
        for r in kernel {
            guard let key = Self.key(r.destination) else { continue }
            if (pair(key)?.installed ?? 0) == 0 { installedCount += 1 }
            setInstalled(key, templates.retain(Self.template(r)))
        }
    }

    /// A new speaker starts from an empty table: forget what the old one wanted but keep what
    /// is installed, so unchanged routes are not touched and the next resync removes the rest.
    public mutating func forgetDesired() {
        for key in table.prefixes() { setDesired(key, id: 0) }
    }

    func op(for dest: IPPrefix) -> KernelRouteOp? {
        guard let (want, have) = pair(dest) else { return nil }
        if want == have { return nil }
        switch (want, have) {
        case (0, _): return .delete(route(have, at: dest))
        case (_, 0): return blocked.contains(dest) ? nil : .add(route(want, at: dest))
        default:
            return Self.sameContent(templates[want], templates[have]) ? nil : .replace(route(want, at: dest))
        }
    }

    /// The programmer's report on one operation.
    public mutating func completed(_ op: KernelRouteOp, succeeded: Bool, alreadyExists: Bool = false, notFound: Bool = false) {
        switch op {
        case .add(let r), .replace(let r):
            guard let key = Self.key(r.destination) else { return }
            if succeeded {
                let (want, installed) = pair(key) ?? (0, 0)
                if installed == 0 { installedCount += 1 }
                // Usually the desired route itself: share its id without hashing the route.
                if want != 0, templates[want].nextHops == r.nextHops, templates[want] == Self.template(r) {
                    templates.retain(id: want)
                    setInstalled(key, want)
                } else {
                    setInstalled(key, templates.retain(Self.template(r)))
                }
                blocked.remove(key)
            } else if alreadyExists, case .add = op {
                blocked.insert(key)
            }
        case .delete(let r):
            guard let key = Self.key(r.destination), succeeded || notFound, let (_, installed) = pair(key) else { return }
            if installed != 0 { installedCount -= 1 }
            setInstalled(key, 0)
        }
    }

    /// Equal as far as we set them; next hop order does not matter, and the kernel reports
    /// every IPv6 route with universe scope.
    static func sameContent(_ a: KernelRoute, _ b: KernelRoute) -> Bool {
        func hops(_ r: KernelRoute) -> [String] {
            r.nextHops.map { "\($0.gateway?.description ?? "-")|\($0.linkIndex ?? 0)|\($0.weight)|\($0.onLink)" }.sorted()
        }
        return a.type == b.type && a.proto == b.proto && a.preferredSource == b.preferredSource
            && (a.family == .ipv6 || a.scope == b.scope) && hops(a) == hops(b)
    }

    static func key(_ p: InetPrefix) -> IPPrefix? {
        IPAddress(bytes: p.address.bytes).flatMap { IPPrefix(address: $0, length: p.length) }
    }

    // MARK: storage

    /// What a Loc-RIB change's kernel route depends on besides its destination.
    struct Shape: Hashable {
        var local: Bool
        var family: AddressFamily.AFI
        var nextHops: [IPAddress]

        init(_ change: LocRIBChange) {
            local = change.best?.source == .local
            family = change.prefix.afi
            nextHops = local ? [] : change.nextHops
        }
    }

    private func pair(_ key: IPPrefix) -> (desired: UInt32, installed: UInt32)? {
        table[key].map { decode(key, $0) }
    }

    private func decode(_ key: IPPrefix, _ v: UInt32) -> (desired: UInt32, installed: UInt32) {
        let desired = v & Self.idMask
        if v & Self.inSync != 0 { return (desired, desired) }
        if v & Self.installedOther != 0 { return (desired, otherInstalled[key]!) }
        return (desired, 0)
    }

    /// Stores both ids (each holding its own reference, also when they are the same).
    private mutating func store(_ key: IPPrefix, desired: UInt32, installed: UInt32) {
        precondition(desired <= Self.idMask, "kernel route template ids exhausted")
        if let v = table[key], v & Self.installedOther != 0 { otherInstalled[key] = nil }
        if desired == 0, installed == 0 {
            table[key] = nil
        } else if installed == 0 {
            table[key] = desired
        } else if installed == desired {
            table[key] = desired | Self.inSync
        } else {
            otherInstalled[key] = installed
            table[key] = desired | Self.installedOther
        }
    }

    /// The route without its destination (the family's default route stands in), so that
    /// routes differing only in destination share one template.
    static func template(_ r: KernelRoute) -> KernelRoute {
        var t = r
        t.destination = .defaultRoute(r.family)
        return t
    }

    func route(_ id: UInt32, at key: IPPrefix) -> KernelRoute {
        var r = templates[id]
        r.destination = KernelRoutePlanner.inet(key)!
        return r
    }

    /// Sets the desired id, taking over the caller's reference on `id`.
    private mutating func setDesired(_ key: IPPrefix, id: UInt32) {
        let (desired, installed) = pair(key) ?? (0, 0)
        templates.release(desired)
        store(key, desired: id, installed: installed)
    }

    /// Sets the installed id, taking over the caller's reference on `id`.
    private mutating func setInstalled(_ key: IPPrefix, _ id: UInt32) {
        let (desired, installed) = pair(key) ?? (0, 0)
        templates.release(installed)
        store(key, desired: desired, installed: id)
    }
}
