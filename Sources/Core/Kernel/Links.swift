#if canImport(Glibc)
import Glibc
#endif
import CCalicoSystem

/// A network interface as the kernel reports it.
public struct Link: Sendable, Hashable {
    public var index: Int32
    public var name: String
    public var mac: MACAddress?
    public var mtu: Int
    /// Administratively up (IFF_UP).
    public var isUp: Bool
    /// The rtnetlink kind (`veth`, `dummy`, `bridge`, ...); nil for plain devices such as `lo`.
    public var kind: String?

    public init(index: Int32, name: String, mac: MACAddress?, mtu: Int, isUp: Bool, kind: String?) {
        self.index = index
        self.name = name
        self.mac = mac
        self.mtu = mtu
        self.isUp = isUp
        self.kind = kind
    }

    /// Linux's limit: IFNAMSIZ - 1 bytes, no '/', ':' or whitespace, not '.' or '..'.
    public static func isValidName(_ name: String) -> Bool {
        let u = name.utf8
        return !u.isEmpty && u.count <= 15 && name != "." && name != ".."
            && !u.contains { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ":") || $0 <= 32 || $0 == 127 }
    }

    init(_ l: OpaquePointer) {
        index = rtnl_link_get_ifindex(l)
        name = rtnl_link_get_name(l).map { String(cString: $0) } ?? ""
        mac = MACAddress(bytes: NLAddress.bytes(rtnl_link_get_addr(l)))
        mtu = Int(rtnl_link_get_mtu(l))
        isUp = rtnl_link_get_flags(l) & UInt32(IFF_UP) != 0
        kind = rtnl_link_get_type(l).map { String(cString: $0) }
    }
}

extension Netlink {
    /// Every interface in this socket's namespace, by index.
    public func links() throws(KernelError) -> [Link] {
        try withSocket { (s) throws(KernelError) in
            var cache: OpaquePointer?
            try Netlink.check(rtnl_link_alloc_cache(s, AF_UNSPEC, &cache), "list links")
            guard let cache else { return [] }
            return Netlink.collect(cache) { Link($0) }.sorted { $0.index < $1.index }
        }
    }

    /// The interface called `name`, or nil if there is none.
    public func link(named name: String) throws(KernelError) -> Link? {
        guard Link.isValidName(name) else { throw .invalid("get link \(name)", "not an interface name") }
        return try withSocket { (s) throws(KernelError) in
            var l: OpaquePointer?
            let rc = rtnl_link_get_kernel(s, 0, name, &l)
            if rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV { return nil }
            try Netlink.check(rc, "get link \(name)")
            guard let l else { return nil }
            defer { rtnl_link_put(l) }
            return Link(l)
        }
    }

    /// The interface called `name`; not finding it is an error.
    public func requireLink(_ name: String) throws(KernelError) -> Link {
        guard let l = try link(named: name) else {
            throw KernelError(operation: "get link \(name)", source: .netlink(NLE_NODEV), message: "no such interface")
        }
        return l
    }

    /// Creates a veth pair `name` <-> `peerName`. With `peerNamespace` the peer is created directly
    /// inside that namespace (IFLA_NET_NS_FD on the peer), so it never appears on the host.
    public func createVeth(name: String, peerName: String, peerNamespace: NetNamespace? = nil,
                           mtu: Int? = nil, mac: MACAddress? = nil, peerMAC: MACAddress? = nil) throws(KernelError) {
        let op = "create veth \(name) <-> \(peerName)" + (peerNamespace.map { " in \($0)" } ?? "")
        guard Link.isValidName(name), Link.isValidName(peerName) else { throw .invalid(op, "not an interface name") }
        let nsFD = try peerNamespace.map { (ns) throws(KernelError) in try ns.openDescriptor() }
        defer { if let nsFD { close(nsFD) } }
        try withSocket { (s) throws(KernelError) in
            guard let veth = rtnl_link_veth_alloc() else { throw .invalid(op, "out of memory") }
            defer { rtnl_link_veth_release(veth) }
            guard let peer = rtnl_link_veth_get_peer(veth) else { throw .invalid(op, "libnl gave no peer") }
            defer { rtnl_link_put(peer) }
            rtnl_link_set_name(veth, name)
            rtnl_link_set_name(peer, peerName)
            if let nsFD { rtnl_link_set_ns_fd(peer, nsFD) }
            if let mtu {
                rtnl_link_set_mtu(veth, UInt32(clamping: mtu))
                rtnl_link_set_mtu(peer, UInt32(clamping: mtu))
            }
            try Link.setMAC(veth, mac, op)
            try Link.setMAC(peer, peerMAC, op)
            try Netlink.check(rtnl_link_add(s, veth, NLM_F_CREATE | NLM_F_EXCL), op)
        }
    }

    public func renameLink(_ name: String, to newName: String) throws(KernelError) {
        guard Link.isValidName(newName) else { throw .invalid("rename link \(name)", "\(newName) is not an interface name") }
        try changeLink(name, "rename link \(name) to \(newName)") { rtnl_link_set_name($0, newName) }
    }

    public func setMTU(_ name: String, _ mtu: Int) throws(KernelError) {
        guard mtu > 0, mtu <= 65535 else { throw .invalid("set mtu of \(name)", "mtu \(mtu) out of range") }
        try changeLink(name, "set mtu of \(name) to \(mtu)") { rtnl_link_set_mtu($0, UInt32(mtu)) }
    }

    public func setMAC(_ name: String, _ mac: MACAddress) throws(KernelError) {
        let op = "set mac of \(name) to \(mac)"
        try changeLink(name, op) { (c) throws(KernelError) in try Link.setMAC(c, mac, op) }
    }

    public func setUp(_ name: String, _ up: Bool = true) throws(KernelError) {
        try changeLink(name, "set link \(name) \(up ? "up" : "down")") {
            if up { rtnl_link_set_flags($0, UInt32(IFF_UP)) } else { rtnl_link_unset_flags($0, UInt32(IFF_UP)) }
        }
    }

    /// Moves the interface into another namespace, optionally renaming it on the way.
    public func moveLink(_ name: String, to namespace: NetNamespace, newName: String? = nil) throws(KernelError) {
        let op = "move link \(name) to \(namespace)"
        if let newName, !Link.isValidName(newName) { throw .invalid(op, "\(newName) is not an interface name") }
        let fd = try namespace.openDescriptor()
        defer { close(fd) }
        try changeLink(name, op) {
            rtnl_link_set_ns_fd($0, fd)
            if let newName { rtnl_link_set_name($0, newName) }
        }
    }

    /// Deletes the interface (a veth takes its peer with it).
    public func deleteLink(_ name: String) throws(KernelError) {
        let op = "delete link \(name)"
        guard Link.isValidName(name) else { throw .invalid(op, "not an interface name") }
        try withSocket { (s) throws(KernelError) in
            guard let l = rtnl_link_alloc() else { throw .invalid(op, "out of memory") }
            defer { rtnl_link_put(l) }
            rtnl_link_set_name(l, name)
            try Netlink.check(rtnl_link_delete(s, l), op)
        }
    }

    /// The index of interface `name` (for route next hops and neighbours).
    public func linkIndex(_ name: String) throws(KernelError) -> Int32 { try requireLink(name).index }

    private func changeLink(_ name: String, _ op: String,
                            _ edit: (OpaquePointer) throws(KernelError) -> Void) throws(KernelError) {
        guard Link.isValidName(name) else { throw .invalid(op, "not an interface name") }
        try withSocket { (s) throws(KernelError) in
            var orig: OpaquePointer?
            try Netlink.check(rtnl_link_get_kernel(s, 0, name, &orig), op)
            guard let orig else { throw .invalid(op, "libnl returned no link") }
            defer { rtnl_link_put(orig) }
            guard let change = rtnl_link_alloc() else { throw .invalid(op, "out of memory") }
            defer { rtnl_link_put(change) }
            try edit(change)
            try Netlink.check(rtnl_link_change(s, orig, change, 0), op)
        }
    }
}

extension Link {
    static func setMAC(_ l: OpaquePointer, _ mac: MACAddress?, _ op: String) throws(KernelError) {
        guard let mac else { return }
        try NLAddress.with(NLAddress.make(mac), op) { rtnl_link_set_addr(l, $0) }
    }
}
