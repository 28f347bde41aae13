#if canImport(Glibc)
import Glibc
#endif
import CCalicoSystem

/// An ARP (IPv4) or NDP (IPv6) table entry.
public struct Neighbour: Sendable, Hashable {
    public var linkIndex: Int32
    public var address: InetAddress
    public var mac: MACAddress?
    /// NUD_* bits; `isPermanent` for static entries.
    public var state: UInt16

    public var isPermanent: Bool { state & UInt16(NUD_PERMANENT) != 0 }

    public init(linkIndex: Int32, address: InetAddress, mac: MACAddress?, state: UInt16 = UInt16(NUD_PERMANENT)) {
        self.linkIndex = linkIndex
        self.address = address
        self.mac = mac
        self.state = state
    }
}

extension Netlink {
    /// Neighbour entries, optionally of one interface.
    public func neighbours(linkIndex: Int32? = nil) throws(KernelError) -> [Neighbour] {
        try withSocket { (s) throws(KernelError) in
            var cache: OpaquePointer?
            try Netlink.check(rtnl_neigh_alloc_cache(s, &cache), "list neighbours")
            guard let cache else { return [] }
            return Netlink.collect(cache) { (n) -> Neighbour? in
                guard let ip = NLAddress.address(rtnl_neigh_get_dst(n)) else { return nil }
                let entry = Neighbour(linkIndex: rtnl_neigh_get_ifindex(n), address: ip,
                                      mac: MACAddress(bytes: NLAddress.bytes(rtnl_neigh_get_lladdr(n))),
                                      state: UInt16(truncatingIfNeeded: rtnl_neigh_get_state(n)))
                if let linkIndex, linkIndex != entry.linkIndex { return nil }
                return entry
            }
        }
    }

    /// Adds or replaces a permanent entry `address -> mac` on `link` (like
    /// `ip neigh replace ADDR lladdr MAC dev LINK nud permanent`); the pod side uses it for
    /// 169.254.1.1 -> ee:ee:ee:ee:ee:ee so it never has to ARP.
    public func setPermanentNeighbour(_ address: InetAddress, mac: MACAddress, link: String) throws(KernelError) {
        let op = "set neighbour \(address) lladdr \(mac) dev \(link)"
        let index = try linkIndex(link)
        try editNeighbour(address, index: index, op) { (s, n) throws(KernelError) in
            try NLAddress.with(NLAddress.make(mac), op) { rtnl_neigh_set_lladdr(n, $0) }
            rtnl_neigh_set_state(n, Int32(NUD_PERMANENT))
            return rtnl_neigh_add(s, n, NLM_F_CREATE | NLM_F_REPLACE)
        }
    }

    public func deleteNeighbour(_ address: InetAddress, link: String) throws(KernelError) {
        let op = "delete neighbour \(address) dev \(link)"
        let index = try linkIndex(link)
        try editNeighbour(address, index: index, op) { (s, n) in rtnl_neigh_delete(s, n, 0) }
    }

    private func editNeighbour(_ address: InetAddress, index: Int32, _ op: String,
                               _ send: (OpaquePointer, OpaquePointer) throws(KernelError) -> Int32) throws(KernelError) {
        try withSocket { (s) throws(KernelError) in
            guard let n = rtnl_neigh_alloc() else { throw .invalid(op, "out of memory") }
            defer { rtnl_neigh_put(n) }
            rtnl_neigh_set_ifindex(n, index)
            rtnl_neigh_set_family(n, address.family.addressFamily)
            try NLAddress.with(NLAddress.make(address), op) { (d) throws(KernelError) in
                try Netlink.check(rtnl_neigh_set_dst(n, d), op)
            }
            try Netlink.check(try send(s, n), op)
        }
    }
}
