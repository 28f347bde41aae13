#if canImport(Glibc)
import Glibc
#endif
import CCalicoSystem

/// An address on an interface: the local address with its prefix length, and its scope.
public struct InterfaceAddress: Sendable, Hashable {
    public var linkIndex: Int32
    public var prefix: InetPrefix
    public var scope: RouteScope

    public init(linkIndex: Int32, prefix: InetPrefix, scope: RouteScope = .universe) {
        self.linkIndex = linkIndex
        self.prefix = prefix
        self.scope = scope
    }
}

extension Netlink {
    /// Addresses in this namespace, optionally only those of one family or one interface.
    public func addresses(family: InetAddress.Family? = nil, linkIndex: Int32? = nil) throws(KernelError) -> [InterfaceAddress] {
        try withSocket { (s) throws(KernelError) in
            var cache: OpaquePointer?
            try Netlink.check(rtnl_addr_alloc_cache(s, &cache), "list addresses")
            guard let cache else { return [] }
            return Netlink.collect(cache) { (a) -> InterfaceAddress? in
                let fam: InetAddress.Family = rtnl_addr_get_family(a) == AF_INET ? .ipv4 : .ipv6
                guard let p = NLAddress.prefix(rtnl_addr_get_local(a), family: fam) else { return nil }
                let addr = InterfaceAddress(linkIndex: rtnl_addr_get_ifindex(a), prefix: p,
                                            scope: RouteScope(rawValue: UInt8(clamping: rtnl_addr_get_scope(a))))
                if let family, family != fam { return nil }
                if let linkIndex, linkIndex != addr.linkIndex { return nil }
                return addr
            }
        }
    }

    /// Adds `prefix` (e.g. 10.65.0.5/32) to interface `link`. `noDAD` skips IPv6 duplicate address
    /// detection so the address is usable at once (IFA_F_NODAD).
    public func addAddress(_ prefix: InetPrefix, link: String, scope: RouteScope = .universe,
                           noDAD: Bool = false) throws(KernelError) {
        let op = "add address \(prefix) to \(link)"
        let index = try linkIndex(link)
        try editAddress(prefix, index: index, op) { (s, a) in
            rtnl_addr_set_scope(a, Int32(scope.rawValue))
            if noDAD && prefix.family == .ipv6 { rtnl_addr_set_flags(a, UInt32(IFA_F_NODAD)) }
            return rtnl_addr_add(s, a, NLM_F_CREATE | NLM_F_EXCL)
        }
    }

    public func deleteAddress(_ prefix: InetPrefix, link: String) throws(KernelError) {
        let op = "delete address \(prefix) from \(link)"
        let index = try linkIndex(link)
        try editAddress(prefix, index: index, op) { (s, a) in rtnl_addr_delete(s, a, 0) }
    }

    private func editAddress(_ prefix: InetPrefix, index: Int32, _ op: String,
                             _ send: (OpaquePointer, OpaquePointer) -> Int32) throws(KernelError) {
        try withSocket { (s) throws(KernelError) in
            guard let a = rtnl_addr_alloc() else { throw .invalid(op, "out of memory") }
            defer { rtnl_addr_put(a) }
            rtnl_addr_set_ifindex(a, index)
            rtnl_addr_set_family(a, prefix.family.addressFamily)
            try NLAddress.with(NLAddress.make(prefix), op) { (local) throws(KernelError) in
                try Netlink.check(rtnl_addr_set_local(a, local), op)
            }
            rtnl_addr_set_prefixlen(a, Int32(prefix.length))
            try Netlink.check(send(s, a), op)
        }
    }
}
