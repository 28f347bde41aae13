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
public struct KernelRouteState: Sendable {
    public var planner: KernelRoutePlanner
    // Keyed by the compact IPPrefix (no heap storage per key): a million routes stay small.
    public private(set) var desired: [IPPrefix: KernelRoute] = [:]
    /// Routes of our protocol that we know are in the kernel.
    public private(set) var installed: [IPPrefix: KernelRoute] = [:]
    /// Destinations held by a route we did not install; left alone until a resync.
    public private(set) var blocked: Set<IPPrefix> = []
    /// One shared next-hop array per distinct set of next hops (most routes share a few).
    private var hopSets: [[NextHop]: [NextHop]] = [:]

    public init(planner: KernelRoutePlanner) { self.planner = planner }

    /// Applies Loc-RIB changes; returns the operations that bring the kernel in line.
    public mutating func apply(_ changes: [LocRIBChange]) -> [KernelRouteOp] {
        var touched: [IPPrefix] = []
        touched.reserveCapacity(changes.count)
        for change in changes {
            if let route = planner.route(change) { desired[change.prefix] = sharingHops(route) } else { desired[change.prefix] = nil }
            touched.append(change.prefix)
        }
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
        installed = [:]
        for r in kernel { if let key = Self.key(r.destination) { installed[key] = r } }
        blocked = []
        var ops: [KernelRouteOp] = []
        for dest in Set(desired.keys).union(installed.keys).sorted() {
            if let op = op(for: dest) { ops.append(op) }
        }
        return ops
    }

    /// Keeps the old routes of our protocol after a restart without touching them: they are
    /// deleted by the first resync if still unwanted (so forwarding survives our own restart).
    public mutating func adopt(kernel: [KernelRoute]) {
        for r in kernel { if let key = Self.key(r.destination) { installed[key] = r } }
    }

    static func key(_ p: InetPrefix) -> IPPrefix? {
        IPAddress(bytes: p.address.bytes).flatMap { IPPrefix(address: $0, length: p.length) }
    }

    /// The route with its next-hop array replaced by the shared one for the same hops.
    mutating func sharingHops(_ route: KernelRoute) -> KernelRoute {
        guard !route.nextHops.isEmpty else { return route }
        if let shared = hopSets[route.nextHops] {
            var r = route
            r.nextHops = shared
            return r
        }
        if hopSets.count > 4096 { hopSets = [:] } // many distinct sets: stop sharing rather than grow
        hopSets[route.nextHops] = route.nextHops
        return route
    }

    /// A new speaker starts from an empty table: forget what the old one wanted but keep what
    /// is installed, so unchanged routes are not touched and the next resync removes the rest.
    public mutating func forgetDesired() {
        desired = [:]
    }

    /// Re-plans every desired route (the interface addresses changed).
    public mutating func replan(addresses: [InterfaceAddress], locRIB: [LocRIBChange]) -> [KernelRouteOp] {
        planner.addresses = addresses
        desired = [:]
        return apply(locRIB) + resyncDeletes()
    }

    private mutating func resyncDeletes() -> [KernelRouteOp] {
        installed.keys.filter { desired[$0] == nil }.sorted().compactMap { op(for: $0) }
    }

    func op(for dest: IPPrefix) -> KernelRouteOp? {
        let want = desired[dest] ?? nil
        let have = installed[dest]
        switch (want, have) {
        case (nil, nil): return nil
        case (nil, let have?): return .delete(have)
        case (let want?, nil): return blocked.contains(dest) ? nil : .add(want)
        case (let want?, let have?): return Self.sameContent(want, have) ? nil : .replace(want)
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

    /// The programmer's report on one operation.
    public mutating func completed(_ op: KernelRouteOp, succeeded: Bool, alreadyExists: Bool = false, notFound: Bool = false) {
        switch op {
        case .add(let r), .replace(let r):
            guard let key = Self.key(r.destination) else { return }
            if succeeded { installed[key] = r; blocked.remove(key) }
            else if alreadyExists, case .add = op { blocked.insert(key) }
        case .delete(let r):
            guard let key = Self.key(r.destination) else { return }
            if succeeded || notFound { installed[key] = nil }
        }
    }

    public var installedCount: Int { installed.count }
}
