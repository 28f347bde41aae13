import Core

/// How one Loc-RIB entry becomes a kernel route (pure): our own blocks become blackholes (so that
/// traffic to an unused address of a local block is dropped here instead of bouncing back out),
/// learned routes go via their next hops (all of the multipath set: ECMP), each next hop on the
/// interface whose subnet holds it, or marked on-link through the interface carrying this node's
/// address when no subnet holds it (nodes with /32 addresses on a shared layer 2).
public struct KernelRoutePlanner: Sendable, Hashable {
    /// This namespace's interface addresses.
    public var addresses: [InterfaceAddress]
    public var table: UInt32

    public init(addresses: [InterfaceAddress], table: UInt32 = RouteTable.main) {
        self.addresses = addresses
        self.table = table
    }

    /// The route for `prefix` given its Loc-RIB selection; nil when there is to be none.
    public func route(prefix: IPPrefix, best: Route?, multipath: [Route]) -> KernelRoute? {
        guard let best, let destination = Self.inet(prefix) else { return nil }
        if best.source == .local { return .blackhole(destination, proto: .calicoBGP, table: table) }
        var hops: [NextHop] = []
        var seen: Set<InetAddress> = []
        for route in multipath.isEmpty ? [best] : multipath {
            guard let hop = route.nextHop.flatMap(Self.inet), hop.family == destination.family,
                  seen.insert(hop).inserted, let nextHop = nextHop(hop) else { continue }
            hops.append(nextHop)
        }
        guard !hops.isEmpty else { return nil }
        return KernelRoute(destination: destination, nextHops: hops, table: table, proto: .calicoBGP)
    }

    public func route(_ change: LocRIBChange) -> KernelRoute? {
        route(prefix: change.prefix, best: change.best, multipath: change.multipath)
    }

    /// Nil for a next hop that is one of our own addresses (a route through ourselves loops).
    func nextHop(_ gateway: InetAddress) -> NextHop? {
        let family = addresses.filter { $0.prefix.family == gateway.family }
        if family.contains(where: { $0.prefix.address == gateway }) { return nil }
        // The most specific connected subnet that holds it.
        if let on = family.filter({ $0.prefix.contains(gateway) && !$0.prefix.isHost }).max(by: { $0.prefix.length < $1.prefix.length }) {
            return NextHop(gateway: gateway, linkIndex: on.linkIndex)
        }
        let uplink = family.first { $0.scope == .universe && !$0.prefix.address.isLoopback && !$0.prefix.address.isLinkLocal }
        return NextHop(gateway: gateway, linkIndex: uplink?.linkIndex, onLink: uplink != nil)
    }

    static func inet(_ a: IPAddress) -> InetAddress? { InetAddress(bytes: a.bytes) }

    static func inet(_ p: IPPrefix) -> InetPrefix? {
        inet(p.address).flatMap { InetPrefix(address: $0, length: Int(p.length)) }
    }
}

extension InetAddress {
    var isLoopback: Bool { family == .ipv4 ? bytes[0] == 127 : bytes == [UInt8](repeating: 0, count: 15) + [1] }
    var isLinkLocal: Bool { family == .ipv4 ? (bytes[0] == 169 && bytes[1] == 254) : (bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80) }
}
