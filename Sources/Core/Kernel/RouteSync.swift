/// Converging a table to a desired set of routes: a pure plan (what to replace, what to delete)
/// from what is there and what should be, then a netlink edge that applies it. A restart, a
/// resync and a single update all take this one path.
public struct RoutePlan: Sendable, Equatable {
    /// Missing or different: written with replace (so a changed next hop is one request).
    public var toReplace: [KernelRoute]
    /// Present but no longer wanted.
    public var toDelete: [KernelRoute]

    public var isEmpty: Bool { toReplace.isEmpty && toDelete.isEmpty }

    /// Routes are matched on the kernel's key (table, destination, effective metric) and compared
    /// on what we set; next hop order does not matter.
    public static func make(current: [KernelRoute], desired: [KernelRoute]) -> RoutePlan {
        var have: [Key: KernelRoute] = [:]
        for r in current { have[Key(r)] = r }
        var want: [Key: KernelRoute] = [:]
        for r in desired { want[Key(r)] = r }
        let toReplace = desired.filter { want[Key($0)] == $0 }  // last of duplicates wins
            .filter { r in have[Key(r)].map { !sameContent($0, r) } ?? true }
        let toDelete = current.filter { want[Key($0)] == nil }
        return RoutePlan(toReplace: toReplace.sorted { $0.destination < $1.destination },
                         toDelete: toDelete.sorted { $0.destination < $1.destination })
    }

    struct Key: Hashable {
        var table: UInt32
        var destination: InetPrefix
        var metric: UInt32
        init(_ r: KernelRoute) {
            table = r.table
            destination = r.destination
            metric = r.effectiveMetric
        }
    }

    static func sameContent(_ a: KernelRoute, _ b: KernelRoute) -> Bool {
        func hops(_ r: KernelRoute) -> [String] {
            r.nextHops.map { "\($0.gateway?.description ?? "-")|\($0.linkIndex ?? 0)|\($0.weight)|\($0.onLink)" }.sorted()
        }
        // The kernel reports every IPv6 route with universe scope.
        let scopeMatters = a.family == .ipv4
        return a.type == b.type && a.proto == b.proto && a.preferredSource == b.preferredSource
            && (!scopeMatters || a.scope == b.scope) && hops(a) == hops(b)
    }
}

extension KernelRoute {
    /// The metric the kernel stores: IPv6 turns 0 into 1024.
    var effectiveMetric: UInt32 { family == .ipv6 && metric == 0 ? 1024 : metric }
}

/// What a sync did; failures do not stop the rest.
public struct RouteSyncResult: Sendable {
    public var replaced = 0
    public var deleted = 0
    public var failures: [KernelError] = []
}

extension Netlink {
    /// Makes the routes of protocol `proto` in `table` exactly `desired` (each given `proto` and
    /// `table` whatever it said). Routes of other protocols are never listed, changed or deleted.
    @discardableResult
    public func syncRoutes(_ desired: [KernelRoute], proto: RouteProtocol,
                           table: UInt32 = RouteTable.main) throws(KernelError) -> RouteSyncResult {
        guard proto != .unspecified else { throw .invalid("sync routes", "a sync needs a protocol of its own") }
        let wanted = desired.map { r -> KernelRoute in
            var r = r
            r.proto = proto
            r.table = table
            return r
        }
        let plan = RoutePlan.make(current: try routes(family: nil, table: table, proto: proto), desired: wanted)
        var result = RouteSyncResult()
        // New paths first, then the withdrawals, so traffic is never left without a route.
        for r in plan.toReplace {
            do { try replaceRoute(r); result.replaced += 1 } catch { result.failures.append(error) }
        }
        for r in plan.toDelete {
            do { try deleteRoute(r); result.deleted += 1 } catch { if !error.isNotFound { result.failures.append(error) } }
        }
        return result
    }
}
