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
/// One table holds both sides: an entry's installed route is usually the desired one itself
/// (`.asDesired`, no copy), so a million routes cost one hash table of small entries.
public struct KernelRouteState: Sendable {
    enum Installed: Sendable {
        case none
        case asDesired
        /// Something else of ours (before a change is applied, or adopted after a restart).
        case other(InstalledRoute)
    }

    final class InstalledRoute: Sendable {
        let route: KernelRoute
        init(_ route: KernelRoute) { self.route = route }
    }

    struct Entry: Sendable {
        var desired: KernelRoute?
        var installed: Installed

        var installedRoute: KernelRoute? {
            switch installed {
            case .none: return nil
            case .asDesired: return desired
            case .other(let box): return box.route
            }
        }
    }

    public var planner: KernelRoutePlanner
    // Keyed by the compact IPPrefix (no heap storage per key).
    private var table: [IPPrefix: Entry] = [:]
    /// Destinations held by a route we did not install; left alone until a resync.
    public private(set) var blocked: Set<IPPrefix> = []
    /// One shared next-hop array per distinct set of next hops (most routes share a few).
    private var hopSets: [[NextHop]: [NextHop]] = [:]
    public private(set) var installedCount = 0

    public init(planner: KernelRoutePlanner) { self.planner = planner }

    /// Routes of our protocol that we know are in the kernel.
    public var installedRoutes: [KernelRoute] { table.values.compactMap(\.installedRoute) }

    /// Applies Loc-RIB changes; returns the operations that bring the kernel in line.
    public mutating func apply(_ changes: [LocRIBChange]) -> [KernelRouteOp] {
        var touched: [IPPrefix] = []
        touched.reserveCapacity(changes.count)
        for change in changes {
            setDesired(change.prefix, planner.route(change).map { sharingHops($0) })
            touched.append(change.prefix)
        }
        var ops: [KernelRouteOp] = []
        var done: Set<IPPrefix> = []
        for dest in touched where done.insert(dest).inserted {
            if let op = op(for: dest) { ops.append(op) }
        }
        return ops
    }

    private mutating func setDesired(_ key: IPPrefix, _ route: KernelRoute?) {
        var entry = table[key] ?? Entry(desired: nil, installed: .none)
        if case .asDesired = entry.installed, let old = entry.desired, old != route { entry.installed = .other(InstalledRoute(old)) }
        entry.desired = route
        store(key, entry)
    }

    private mutating func store(_ key: IPPrefix, _ entry: Entry) {
        var e = entry
        // Installed exactly what is now desired: share it.
        if case .other(let box) = e.installed, let d = e.desired, Self.sameContent(d, box.route) { e.installed = .asDesired }
        if e.desired == nil, case .none = e.installed { table[key] = nil } else { table[key] = e }
    }

    /// Starts over from what the kernel holds of our protocol (after a restart or periodically):
    /// every difference becomes an operation, and blocked destinations are tried again.
    public mutating func resync(kernel: [KernelRoute]) -> [KernelRouteOp] {
        for key in Array(table.keys) {
            var e = table[key]!
            e.installed = .none
            store(key, e)
        }
        installedCount = 0
        adopt(kernel: kernel)
        blocked = []
        var ops: [KernelRouteOp] = []
        for dest in table.keys.sorted() {
            if let op = op(for: dest) { ops.append(op) }
        }
        return ops
    }

    /// Keeps the old routes of our protocol after a restart without touching them: they are
    /// deleted by the first resync if still unwanted (so forwarding survives our own restart).
    public mutating func adopt(kernel: [KernelRoute]) {
        for r in kernel {
            guard let key = Self.key(r.destination) else { continue }
            var e = table[key] ?? Entry(desired: nil, installed: .none)
            if case .none = e.installed { installedCount += 1 }
            e.installed = .other(InstalledRoute(r))
            store(key, e)
        }
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
        for key in Array(table.keys) { setDesired(key, nil) }
    }

    func op(for dest: IPPrefix) -> KernelRouteOp? {
        guard let entry = table[dest] else { return nil }
        if case .asDesired = entry.installed { return nil }
        switch (entry.desired, entry.installedRoute) {
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
            if succeeded {
                var e = table[key] ?? Entry(desired: nil, installed: .none)
                if case .none = e.installed { installedCount += 1 }
                if let d = e.desired, d == r { e.installed = .asDesired } else { e.installed = .other(InstalledRoute(r)) }
                store(key, e)
                blocked.remove(key)
            } else if alreadyExists, case .add = op {
                blocked.insert(key)
            }
        case .delete(let r):
            guard let key = Self.key(r.destination), succeeded || notFound, var e = table[key] else { return }
            if case .none = e.installed {} else { installedCount -= 1 }
            e.installed = .none
            store(key, e)
        }
    }
}
