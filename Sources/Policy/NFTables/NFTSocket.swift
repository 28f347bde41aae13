#if canImport(Glibc)
import Glibc
#endif
import CCalicoSystem
import Core

/// A NETLINK_NETFILTER socket, opened inside a network namespace (the socket stays bound to it
/// after the opening thread leaves). Not thread-safe: one user at a time.
final class NFTSocket {
    private let nl: OpaquePointer
    let portID: UInt32
    private var seq: UInt32
    /// One datagram: a dump part (the kernel sends at most ~32 KiB) or an error echoing one
    /// message (under 64 KiB; NETLINK_CAP_ACK drops the echo).
    private var receiveBuffer = [UInt8](repeating: 0, count: 256 << 10)

    init(namespace: NetNamespace?) throws {
        let open: () throws -> OpaquePointer = {
            guard let nl = mnl_socket_open(NETLINK_NETFILTER) else { throw NFTError.system("open netfilter netlink socket", errno: errno) }
            guard mnl_socket_bind(nl, 0, pid_t(MNL_SOCKET_AUTOPID)) == 0 else {
                let e = errno
                mnl_socket_close(nl)
                throw NFTError.system("bind netfilter netlink socket", errno: e)
            }
            return nl
        }
        nl = try namespace.map { try $0.run(open) } ?? open()
        portID = mnl_socket_get_portid(nl)
        seq = UInt32(truncatingIfNeeded: time(nil))
        var one: Int32 = 1
        _ = setsockopt(mnl_socket_get_fd(nl), SOL_NETLINK, NETLINK_CAP_ACK, &one, socklen_t(MemoryLayout<Int32>.size))
        _ = setsockopt(mnl_socket_get_fd(nl), SOL_NETLINK, NETLINK_EXT_ACK, &one, socklen_t(MemoryLayout<Int32>.size))
        var big: Int32 = 4 << 20
        _ = setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &big, socklen_t(MemoryLayout<Int32>.size))
        // Never hang on a kernel that does not answer.
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        _ = setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { mnl_socket_close(nl) }

    func nextSeq() -> UInt32 {
        seq &+= 1
        return seq
    }

    /// Sends the chunks as one datagram (a batch must arrive in one piece to be atomic).
    func send(_ chunks: [[UInt8]]) throws {
        let fd = mnl_socket_get_fd(nl)
        let total = chunks.reduce(0) { $0 + $1.count }
        var size = Int32(clamping: total + 65536)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size))
        var kernel = sockaddr_nl()
        kernel.nl_family = sa_family_t(AF_NETLINK)
        // Each chunk stays alive (and its storage pinned) while sendmsg reads it.
        let sent: Int = withExtendedLifetime(chunks) {
            var iov = chunks.map { chunk in
                chunk.withUnsafeBufferPointer { iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count) }
            }
            return iov.withUnsafeMutableBufferPointer { iovs in
                withUnsafeMutablePointer(to: &kernel) { addr in
                    var msg = msghdr()
                    msg.msg_name = UnsafeMutableRawPointer(addr)
                    msg.msg_namelen = socklen_t(MemoryLayout<sockaddr_nl>.size)
                    msg.msg_iov = iovs.baseAddress
                    msg.msg_iovlen = iovs.count
                    return sendmsg(fd, &msg, 0)
                }
            }
        }
        guard sent == total else { throw NFTError.system("send nftables netlink batch of \(total) bytes", errno: errno) }
    }

    /// Receives one datagram and calls `each` for every netlink message in it.
    func receive(_ each: (UnsafePointer<nlmsghdr>) throws -> Void) throws {
        let n = receiveBuffer.withUnsafeMutableBytes { mnl_socket_recvfrom(nl, $0.baseAddress, $0.count) }
        guard n >= 0 else { throw NFTError.system("receive from nftables netlink", errno: errno) }
        try receiveBuffer.withUnsafeBytes { raw in
            var offset = 0
            let header = MemoryLayout<nlmsghdr>.size
            while offset + header <= n {
                let nlh = raw.baseAddress!.advanced(by: offset).assumingMemoryBound(to: nlmsghdr.self)
                let len = Int(nlh.pointee.nlmsg_len)
                guard len >= header, offset + len <= n else { throw NFTError.protocolError("truncated message") }
                try each(nlh)
                offset += (len + 3) & ~3
            }
        }
    }

    /// The error code of an NLMSG_ERROR message (0 for an ACK).
    static func errorCode(_ nlh: UnsafePointer<nlmsghdr>) -> Int32 {
        guard Int(nlh.pointee.nlmsg_len) >= MemoryLayout<nlmsghdr>.size + 4 else { return EPROTO }
        return UnsafeRawPointer(nlh).advanced(by: MemoryLayout<nlmsghdr>.size).loadUnaligned(as: Int32.self)
    }

    /// Sends a dump request and calls `each` with every answer until NLMSG_DONE.
    func dump(_ request: [UInt8], seq: UInt32, _ each: (UnsafePointer<nlmsghdr>) throws -> Void) throws {
        try send([request])
        var done = false
        while !done {
            try receive { nlh in
                guard nlh.pointee.nlmsg_seq == seq else { return }
                switch Int32(nlh.pointee.nlmsg_type) {
                case NLMSG_DONE: done = true
                case NLMSG_ERROR:
                    let code = Self.errorCode(nlh)
                    if code != 0 { throw NFTError.system("nftables dump", errno: -code) }
                    done = true
                default: try each(nlh)
                }
            }
        }
    }
}
