#if canImport(Glibc)
import Glibc
#endif
import CCalicoSystem

/// A NETLINK_ROUTE socket (libnl) for links, addresses, routes and neighbours. A netlink socket
/// belongs to the namespace it was opened in, so `Netlink(in: ns)` opens it inside `ns` and
/// can then be used from any thread. Calls are serialised on the socket.
public final class Netlink: @unchecked Sendable {
    /// nil: the namespace of the thread that opened it (normally the host's).
    public let namespace: NetNamespace?
    private let sock: OpaquePointer
    /// Serialises calls on the socket.
    private let lock = ThreadLock()

    public init(in namespace: NetNamespace? = nil) throws(KernelError) {
        self.namespace = namespace
        if let namespace {
            var result: Result<OpaquePointer, KernelError> = .failure(.invalid("open netlink", "not run"))
            do {
                try namespace.run { result = Result { () throws(KernelError) in try Netlink.connect() } }
            } catch let e as KernelError {
                throw e
            } catch {
                throw .invalid("open netlink in \(namespace)", "\(error)")
            }
            sock = try result.get()
        } else {
            sock = try Netlink.connect()
        }
    }

    deinit {
        nl_close(sock)
        nl_socket_free(sock)
    }

    private static func connect() throws(KernelError) -> OpaquePointer {
        guard let s = nl_socket_alloc() else { throw .invalid("open netlink", "out of memory") }
        let rc = nl_connect(s, NETLINK_ROUTE)
        guard rc >= 0 else {
            nl_socket_free(s)
            throw .netlink(rc, "open netlink route socket")
        }
        // Room for large dumps (many routes) without ENOBUFS.
        _ = nl_socket_set_buffer_size(s, 1 << 21, 1 << 21)
        return s
    }

    /// Runs `body` with the socket, one caller at a time.
    func withSocket<T>(_ body: (OpaquePointer) throws(KernelError) -> T) throws(KernelError) -> T {
        try lock.withLock { () throws(KernelError) -> T in try body(sock) }
    }

    /// Checks a libnl return code.
    static func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws(KernelError) {
        if rc < 0 { throw .netlink(rc, operation()) }
    }

    /// Walks a libnl cache's objects, then frees the cache.
    static func collect<T>(_ cache: OpaquePointer, _ transform: (OpaquePointer) -> T?) -> [T] {
        defer { nl_cache_free(cache) }
        var out: [T] = []
        var object = nl_cache_get_first(cache)
        while let o = object {
            if let value = transform(o) { out.append(value) }
            object = nl_cache_get_next(o)
        }
        return out
    }
}

/// Conversions between Swift values and libnl's `struct nl_addr`.
enum NLAddress {
    /// A new nl_addr (caller puts it) for an IP prefix.
    static func make(_ prefix: InetPrefix) -> OpaquePointer? {
        let a = make(prefix.address)
        if let a { nl_addr_set_prefixlen(a, Int32(prefix.length)) }
        return a
    }

    static func make(_ address: InetAddress) -> OpaquePointer? {
        address.bytes.withUnsafeBytes { nl_addr_build(address.family.addressFamily, $0.baseAddress, $0.count) }
    }

    static func make(_ mac: MACAddress) -> OpaquePointer? {
        mac.bytes.withUnsafeBytes { nl_addr_build(Int32(AF_LLC), $0.baseAddress, $0.count) }
    }

    static func bytes(_ a: OpaquePointer?) -> [UInt8] {
        guard let a, let p = nl_addr_get_binary_addr(a) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: Int(nl_addr_get_len(a))))
    }

    static func address(_ a: OpaquePointer?) -> InetAddress? { InetAddress(bytes: bytes(a)) }

    /// A prefix from an nl_addr; an empty address of a family (libnl's default route) is all zeros.
    static func prefix(_ a: OpaquePointer?, family: InetAddress.Family) -> InetPrefix? {
        guard let a else { return nil }
        var raw = bytes(a)
        if raw.isEmpty { raw = [UInt8](repeating: 0, count: family.bitWidth / 8) }
        guard let address = InetAddress(bytes: raw) else { return nil }
        return InetPrefix(address: address, length: Int(nl_addr_get_prefixlen(a)))
    }

    /// Runs `body` with a fresh nl_addr, releasing it afterwards.
    static func with<T>(_ a: OpaquePointer?, _ what: String,
                        _ body: (OpaquePointer) throws(KernelError) -> T) throws(KernelError) -> T {
        guard let a else { throw .invalid(what, "could not build a netlink address") }
        defer { nl_addr_put(a) }
        return try body(a)
    }
}
