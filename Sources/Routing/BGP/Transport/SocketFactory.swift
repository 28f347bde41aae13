#if canImport(Glibc)
import Glibc
#endif
import Foundation
import CCalicoSystem

/// Errors from creating BGP sockets, with the errno text.
public struct BGPSocketError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var code: Int32
    public var description: String { "\(operation): \(String(cString: strerror(code))) (errno \(code))" }
}

/// Creates the speaker's TCP sockets as raw descriptors, so that TCP MD5 keys (RFC 2385) are set
/// before connect/listen, and optionally inside another network namespace: the socket is made
/// on a short-lived thread that has joined the namespace with setns(2), and a socket keeps the
/// namespace it was created in. NIO then adopts the descriptor.
public struct SocketFactory: Sendable {
    /// A network namespace file such as /run/netns/<name>; nil for the process's own.
    public var namespacePath: String?

    public init(namespacePath: String? = nil) { self.namespacePath = namespacePath }

    /// Runs `body` on a thread inside the namespace (or the caller's thread when there is none).
    func inNamespace<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        guard let path = namespacePath else { return try body() }
        let box = ResultBox<T>()
        let thread = Thread {
            let nsfd = open(path, O_RDONLY | O_CLOEXEC)
            guard nsfd >= 0 else { box.result = .failure(BGPSocketError(operation: "open \(path)", code: errno)); return }
            defer { close(nsfd) }
            guard cs_setns(nsfd, 0x4000_0000 /* CLONE_NEWNET */) == 0 else {
                box.result = .failure(BGPSocketError(operation: "setns \(path)", code: errno)); return
            }
            box.result = Result { try body() }
        }
        thread.start()
        box.semaphore.wait()
        return try box.result!.get()
    }

    /// A listening socket on `address`:`port` with MD5 keys for the given peers.
    public func listen(address: IPAddress, port: Int, md5Keys: [(IPAddress, String)]) throws -> Int32 {
        let keys = md5Keys.map { MD5Key(peer: $0.0, password: $0.1) }
        return try inNamespace {
            let fd = try Self.socket(for: address)
            do {
                var one: Int32 = 1
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
                if case .v6 = address {
                    var zero: Int32 = 0 // dual stack: also accept IPv4-mapped peers
                    setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &zero, socklen_t(MemoryLayout<Int32>.size))
                }
                for key in keys { try Self.setMD5(fd: fd, peer: key.peer, password: key.password, mapped: address.family == .ipv6) }
                try Self.bind(fd, address: address, port: port)
                guard Glibc.listen(fd, 64) == 0 else { throw BGPSocketError(operation: "listen", code: errno) }
                return fd
            } catch {
                close(fd)
                throw error
            }
        }
    }

    /// A connected socket to `peer`:`port` (blocking connect bounded by `timeoutSeconds`; cut
    /// short by `pending.close()`).
    func connect(to peer: IPAddress, port: Int, source: IPAddress?, password: String?, timeoutSeconds: Int = 5,
                 pending: PendingConnects = PendingConnects()) throws -> Int32 {
        try inNamespace {
            let fd = try Self.socket(for: peer)
            do {
                if let password { try Self.setMD5(fd: fd, peer: peer, password: password, mapped: false) }
                if let source { try Self.bind(fd, address: source, port: 0) }
                var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                var storage = Self.sockaddr(peer, port: port)
                guard pending.begin(fd) else {
                    throw BGPSocketError(operation: "connect \(peer) port \(port) (the speaker is stopping)", code: ECANCELED)
                }
                let rc = withUnsafePointer(to: &storage) {
                    $0.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, Self.length(peer)) }
                }
                let code = errno
                pending.end(fd)
                guard rc == 0 else { throw BGPSocketError(operation: "connect \(peer) port \(port)", code: code) }
                tv = timeval(tv_sec: 0, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                return fd
            } catch {
                close(fd)
                throw error
            }
        }
    }

    // MARK: helpers

    struct MD5Key: Sendable { var peer: IPAddress; var password: String }

    final class ResultBox<T>: @unchecked Sendable {
        var result: Result<T, Error>? { didSet { semaphore.signal() } }
        let semaphore = DispatchSemaphore(value: 0)
    }

    static func socket(for address: IPAddress) throws -> Int32 {
        let domain = address.family == .ipv4 ? AF_INET : AF_INET6
        let fd = Glibc.socket(domain, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw BGPSocketError(operation: "socket", code: errno) }
        return fd
    }

    static func length(_ a: IPAddress) -> socklen_t {
        socklen_t(a.family == .ipv4 ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
    }

    static func sockaddr(_ a: IPAddress, port: Int) -> sockaddr_storage {
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { raw in
            let b = a.bytes
            if a.family == .ipv4 {
                raw.storeBytes(of: sa_family_t(AF_INET), toByteOffset: 0, as: sa_family_t.self)
                raw.storeBytes(of: UInt16(port).bigEndian, toByteOffset: 2, as: UInt16.self)
                for i in 0..<4 { raw[4 + i] = b[i] }
            } else {
                raw.storeBytes(of: sa_family_t(AF_INET6), toByteOffset: 0, as: sa_family_t.self)
                raw.storeBytes(of: UInt16(port).bigEndian, toByteOffset: 2, as: UInt16.self)
                for i in 0..<16 { raw[8 + i] = b[i] }
            }
        }
        return storage
    }

    static func bind(_ fd: Int32, address: IPAddress, port: Int) throws {
        var storage = sockaddr(address, port: port)
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length(address)) }
        }
        guard rc == 0 else { throw BGPSocketError(operation: "bind \(address) port \(port)", code: errno) }
    }

    /// setsockopt(TCP_MD5SIG) with the kernel's struct tcp_md5sig laid out by hand (linux/tcp.h:
    /// sockaddr_storage, flags, prefixlen, keylen, ifindex, key[80]). On an IPv6 socket an IPv4
    /// peer is keyed by its IPv4-mapped address. An empty password removes the key.
    public static func setMD5(fd: Int32, peer: IPAddress, password: String, mapped: Bool) throws {
        let key = Array(password.utf8)
        guard key.count <= 80 else { throw BGPSocketError(operation: "TCP MD5 password longer than 80 octets", code: EINVAL) }
        var keyed = peer
        if mapped, case .v4(let a) = peer { keyed = .v6(0, 0xFFFF_0000_0000 | UInt64(a)) }
        var storage = sockaddr(keyed, port: 0)
        var buffer = [UInt8](repeating: 0, count: 216)
        withUnsafeBytes(of: &storage) { for i in 0..<128 { buffer[i] = $0[i] } }
        buffer[130] = UInt8(key.count & 0xFF)
        buffer[131] = UInt8(key.count >> 8)
        for (i, byte) in key.enumerated() { buffer[136 + i] = byte }
        let tcpMD5Sig: Int32 = 14
        let rc = buffer.withUnsafeBytes { setsockopt(fd, Int32(IPPROTO_TCP), tcpMD5Sig, $0.baseAddress, socklen_t(216)) }
        guard rc == 0 else { throw BGPSocketError(operation: "setsockopt TCP_MD5SIG for \(peer)", code: errno) }
    }
}
