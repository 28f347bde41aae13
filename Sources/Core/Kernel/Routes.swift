#if canImport(Glibc)
import Glibc
#endif
import CCalicoSystem

/// One way out for a route: a gateway, a device, or both. Several make an ECMP route.
public struct NextHop: Sendable, Hashable {
    public var gateway: InetAddress?
    public var linkIndex: Int32?
    /// ECMP weight as `ip route` prints it (1...256).
    public var weight: Int
    /// Treat the gateway as on-link even if no address covers it (RTNH_F_ONLINK).
    public var onLink: Bool

    public init(gateway: InetAddress? = nil, linkIndex: Int32? = nil, weight: Int = 1, onLink: Bool = false) {
        self.gateway = gateway
        self.linkIndex = linkIndex
        self.weight = weight
        self.onLink = onLink
    }

    /// Straight out of a device (with scope link on the route): `dev caliX`.
    public static func device(_ index: Int32) -> NextHop { NextHop(linkIndex: index) }
}

/// A route in a routing table. The identity the kernel keys on is (table, destination, metric,
/// and for IPv4 TOS); protocol says who owns it.
public struct KernelRoute: Sendable, Hashable {
    public var destination: InetPrefix
    public var table: UInt32
    public var type: RouteType
    public var scope: RouteScope
    public var proto: RouteProtocol
    /// The kernel's priority (`metric`); IPv6 turns 0 into 1024.
    public var metric: UInt32
    public var nextHops: [NextHop]
    public var preferredSource: InetAddress?

    public init(destination: InetPrefix, nextHops: [NextHop] = [], table: UInt32 = RouteTable.main,
                type: RouteType = .unicast, scope: RouteScope = .universe, proto: RouteProtocol = .boot,
                metric: UInt32 = 0, preferredSource: InetAddress? = nil) {
        self.destination = destination.network
        self.nextHops = nextHops
        self.table = table
        self.type = type
        self.scope = scope
        self.proto = proto
        self.metric = metric
        self.preferredSource = preferredSource
    }

    /// `<dest> scope link dev <index>`: felix's route to a local workload.
    public static func onLink(_ destination: InetPrefix, linkIndex: Int32, proto: RouteProtocol,
                              table: UInt32 = RouteTable.main) -> KernelRoute {
        KernelRoute(destination: destination, nextHops: [.device(linkIndex)], table: table, scope: .link, proto: proto)
    }

    /// `blackhole <dest>`.
    public static func blackhole(_ destination: InetPrefix, proto: RouteProtocol, table: UInt32 = RouteTable.main) -> KernelRoute {
        KernelRoute(destination: destination, table: table, type: .blackhole, proto: proto)
    }

    public var family: InetAddress.Family { destination.family }
}

extension Netlink {
    /// Routes in this namespace. Every filter is optional; `table` defaults to main. Callers that
    /// own routes pass their `proto` so they see (and so delete) only their own.
    public func routes(family: InetAddress.Family? = nil, table: UInt32? = RouteTable.main,
                       proto: RouteProtocol? = nil) throws(KernelError) -> [KernelRoute] {
        try withSocket { (s) throws(KernelError) in
            var cache: OpaquePointer?
            let af = family?.addressFamily ?? Int32(AF_UNSPEC)
            try Netlink.check(rtnl_route_alloc_cache(s, af, 0, &cache), "list routes")
            guard let cache else { return [] }
            return Netlink.collect(cache) { (r) -> KernelRoute? in
                guard let route = KernelRoute(r) else { return nil }
                if let table, table != route.table { return nil }
                if let proto, proto != route.proto { return nil }
                return route
            }
        }
    }

    /// Routes carrying protocol `proto` in `table` (all families).
    public func listRoutes(proto: RouteProtocol, table: UInt32? = RouteTable.main) throws(KernelError) -> [KernelRoute] {
        try routes(table: table, proto: proto)
    }

    /// Adds a route; fails with `isAlreadyExists` if one with the same key is there.
    public func addRoute(_ route: KernelRoute) throws(KernelError) {
        try send(route, "add route \(route.destination) table \(route.table)") { rtnl_route_add($0, $1, NLM_F_CREATE | NLM_F_EXCL) }
    }

    /// Adds the route or replaces the one with the same key (table, destination, metric).
    public func replaceRoute(_ route: KernelRoute) throws(KernelError) {
        try send(route, "replace route \(route.destination) table \(route.table)") { rtnl_route_add($0, $1, NLM_F_CREATE | NLM_F_REPLACE) }
    }

    /// Deletes the route with the key of `route` *and its protocol*: the kernel refuses to match a
    /// route of another protocol, so a foreign route with the same destination survives. Next hops
    /// are not matched. `.unspecified` as protocol matches any (use with care).
    public func deleteRoute(_ route: KernelRoute) throws(KernelError) {
        var key = KernelRoute(destination: route.destination, table: route.table, type: route.type,
                        scope: .nowhere, proto: route.proto, metric: route.metric)
        key.nextHops = []
        try send(key, "delete route \(route.destination) proto \(route.proto) table \(route.table)") { rtnl_route_delete($0, $1, 0) }
    }

    private func send(_ route: KernelRoute, _ op: String, _ call: (OpaquePointer, OpaquePointer) -> Int32) throws(KernelError) {
        try withSocket { (s) throws(KernelError) in
            let r = try route.makeLibnl(op)
            defer { rtnl_route_put(r) }
            try Netlink.check(call(s, r), op)
        }
    }
}

extension KernelRoute {
    /// A libnl route object for this value (the caller puts it).
    func makeLibnl(_ op: String) throws(KernelError) -> OpaquePointer {
        if nextHops.contains(where: { $0.weight < 1 || $0.weight > 256 }) { throw .invalid(op, "ECMP weight must be 1...256") }
        if let g = nextHops.lazy.compactMap(\.gateway).first(where: { $0.family != family }) {
            throw .invalid(op, "gateway \(g) is not of the destination's family")
        }
        guard let r = rtnl_route_alloc() else { throw .invalid(op, "out of memory") }
        do throws(KernelError) {
            rtnl_route_set_family(r, UInt8(family.addressFamily))
            try NLAddress.with(NLAddress.make(destination), op) { (d) throws(KernelError) in
                try Netlink.check(rtnl_route_set_dst(r, d), op)
            }
            rtnl_route_set_table(r, table)
            try Netlink.check(rtnl_route_set_type(r, type.rawValue), op)
            rtnl_route_set_scope(r, scope.rawValue)
            rtnl_route_set_protocol(r, proto.rawValue)
            if metric != 0 { rtnl_route_set_priority(r, metric) }
            if let src = preferredSource {
                try NLAddress.with(NLAddress.make(src), op) { (a) throws(KernelError) in
                    try Netlink.check(rtnl_route_set_pref_src(r, a), op)
                }
            }
            for hop in nextHops {
                guard let nh = rtnl_route_nh_alloc() else { throw .invalid(op, "out of memory") }
                if let i = hop.linkIndex { rtnl_route_nh_set_ifindex(nh, i) }
                if let g = hop.gateway, let a = NLAddress.make(g) {
                    rtnl_route_nh_set_gateway(nh, a)
                    nl_addr_put(a)
                }
                // libnl's weight is the kernel's rtnh_hops, which is weight - 1.
                rtnl_route_nh_set_weight(nh, UInt8(hop.weight - 1))
                if hop.onLink { rtnl_route_nh_set_flags(nh, UInt32(RTNH_F_ONLINK)) }
                rtnl_route_add_nexthop(r, nh)  // the route now owns nh
            }
            return r
        } catch {
            rtnl_route_put(r)
            throw error
        }
    }

    /// From a libnl route object; nil for families other than IPv4/IPv6.
    init?(_ r: OpaquePointer) {
        let af = Int32(rtnl_route_get_family(r))
        guard af == AF_INET || af == AF_INET6 else { return nil }
        let family: InetAddress.Family = af == AF_INET ? .ipv4 : .ipv6
        guard let dst = NLAddress.prefix(rtnl_route_get_dst(r), family: family) else { return nil }
        var hops: [NextHop] = []
        for i in 0..<max(0, rtnl_route_get_nnexthops(r)) {
            guard let nh = rtnl_route_nexthop_n(r, i) else { continue }
            let index = rtnl_route_nh_get_ifindex(nh)
            hops.append(NextHop(gateway: NLAddress.address(rtnl_route_nh_get_gateway(nh)),
                                linkIndex: index > 0 ? index : nil,
                                weight: Int(rtnl_route_nh_get_weight(nh)) + 1,
                                onLink: rtnl_route_nh_get_flags(nh) & UInt32(RTNH_F_ONLINK) != 0))
        }
        self.init(destination: dst, nextHops: hops, table: rtnl_route_get_table(r),
                  type: RouteType(rawValue: rtnl_route_get_type(r)),
                  scope: RouteScope(rawValue: rtnl_route_get_scope(r)),
                  proto: RouteProtocol(rawValue: rtnl_route_get_protocol(r)),
                  metric: rtnl_route_get_priority(r),
                  preferredSource: NLAddress.address(rtnl_route_get_pref_src(r)))
    }
}
