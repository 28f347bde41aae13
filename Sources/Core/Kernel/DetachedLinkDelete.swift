#if canImport(Glibc)
import Glibc
#endif
import CCalicoSystem

/// Deleting a link without waiting out the kernel's teardown.
///
/// The kernel handles an RTM_DELLINK in its sender's context: under the rtnl lock it unlists the
/// device (and a veth's peer), flushes its addresses, routes and neighbours and broadcasts
/// RTM_DELLINK; then, with the lock released, `netdev_run_todo` calls `rcu_barrier()` and waits
/// for the last references before freeing it. Measured on a veth pair (bench/cni.sh's kernel,
/// HZ=250), the first part takes ~0.5 ms and the barrier 13-20 ms. Here a forked child sends the
/// request and sits out the barrier, and the caller returns at the broadcast: from then on the
/// name is free, no listing shows the link and nothing routes through it.
public enum DetachedLinkDelete {
    /// Deletes link `index` (called `name`, for messages) in `namespace` (nil: this thread's)
    /// and returns once the kernel has unregistered it. A link that is already gone is no error.
    public static func delete(index: Int32, name: String, in namespace: NetNamespace? = nil) throws(KernelError) {
        let fd = try inNamespace(namespace, "delete link \(name)") { () throws(KernelError) in try LinkMonitor.subscribe() }
        defer { close(fd) }
        try delete(index: index, name: name, subscribed: fd)
    }

    /// Deletes the link called `name` in `namespace` if there is one; false when there is none.
    /// One trip into the namespace (the name is resolved there) instead of two.
    public static func delete(named name: String, in namespace: NetNamespace? = nil) throws(KernelError) -> Bool {
        let op = "delete link \(name)"
        guard Link.isValidName(name) else { throw .invalid(op, "not an interface name") }
        let (fd, index) = try inNamespace(namespace, op) { () throws(KernelError) -> (Int32, Int32) in
            let fd = try LinkMonitor.subscribe()
            return (fd, Int32(bitPattern: if_nametoindex(name)))
        }
        defer { close(fd) }
        guard index != 0 else { return false }
        try delete(index: index, name: name, subscribed: fd)
        return true
    }

    private static func delete(index: Int32, name: String, subscribed fd: Int32) throws(KernelError) {
        let op = "delete link \(name)"
        let seq = UInt32.random(in: 1...UInt32.max)
        let request = message(index: index, seq: seq)
        let child = request.withUnsafeBytes { cs_fork_send(fd, $0.baseAddress, $0.count) }
        if child < 0 {
            // No child (process limit): send it ourselves and wait for the ack as before.
            let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            guard sent == request.count else { throw .system("\(op): send") }
        }
        defer { if child > 0 { reap(child) } }
        try waitForUnregister(index: index, seq: seq, on: fd, op)
    }

    /// `body` on a thread inside `namespace` (nil: here).
    static func inNamespace<T>(_ namespace: NetNamespace?, _ op: String,
                               _ body: () throws(KernelError) -> T) throws(KernelError) -> T {
        guard let namespace else { return try body() }
        var r: Result<T, KernelError> = .failure(.invalid(op, "not run"))
        do {
            try namespace.run { r = Result { () throws(KernelError) in try body() } }
        } catch let e as KernelError {
            throw e
        } catch {
            throw .invalid("\(op) in \(namespace)", "\(error)")
        }
        return try r.get()
    }

    /// nlmsghdr + ifinfomsg: RTM_DELLINK of `index`, acked.
    static func message(index: Int32, seq: UInt32) -> [UInt8] {
        var m = [UInt8](repeating: 0, count: 32)
        put32(&m, 0, 32)
        put16(&m, 4, UInt16(RTM_DELLINK))
        put16(&m, 6, UInt16(NLM_F_REQUEST | NLM_F_ACK))
        put32(&m, 8, seq)
        put32(&m, 20, UInt32(bitPattern: index))  // ifinfomsg: family, pad, type (0), then ifi_index
        return m
    }

    /// How one batch of netlink messages bears on the delete.
    enum Outcome: Equatable {
        case pending
        /// Unregistered (the broadcast, or an ack of success or of "no such device").
        case gone
        /// The request was refused with this errno.
        case failed(Int32)
    }

    /// Reads `bytes` (as received on the subscribed socket) for the link's RTM_DELLINK broadcast
    /// (family AF_UNSPEC; a bridge's AF_BRIDGE port notice comes earlier) or our request's ack.
    static func outcome(of bytes: [UInt8], index: Int32, seq: UInt32) -> Outcome {
        var at = 0
        while at + 16 <= bytes.count {
            let len = Int(LinkMessageParser.u32(bytes, at))
            guard len >= 16, at + len <= bytes.count else { break }
            let type = LinkMessageParser.u16(bytes, at + 4)
            if type == UInt16(RTM_DELLINK), len >= 32, bytes[at + 16] == 0,
               Int32(bitPattern: LinkMessageParser.u32(bytes, at + 20)) == index {
                return .gone
            }
            if type == UInt16(NLMSG_ERROR), LinkMessageParser.u32(bytes, at + 8) == seq, len >= 20 {
                let error = -Int32(bitPattern: LinkMessageParser.u32(bytes, at + 16))
                return error == 0 || error == ENODEV ? .gone : .failed(error)
            }
            at += LinkMessageParser.align(len)
        }
        return .pending
    }

    private static func waitForUnregister(index: Int32, seq: UInt32, on fd: Int32, _ op: String) throws(KernelError) {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, 10_000)
            if ready < 0, errno == EINTR { continue }
            guard ready > 0 else { throw .system("\(op): no answer from the kernel in 10 s", errno: ready == 0 ? ETIMEDOUT : errno) }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                // Notifications dropped (ENOBUFS, a busy host): the ack still comes, later.
                if errno == EINTR || errno == EAGAIN || errno == ENOBUFS { continue }
                throw .system("\(op): receive")
            }
            switch outcome(of: Array(buffer[..<n]), index: index, seq: seq) {
            case .pending: continue
            case .gone: return
            case .failed(let e): throw .system(op, errno: e)
            }
        }
    }

    /// The child exits when the kernel is done with the link; a long-lived caller (a test, the
    /// agent) must not collect zombies.
    private static func reap(_ pid: Int32) {
        try? DedicatedThread.detach {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        }
    }

    private static func put16(_ m: inout [UInt8], _ i: Int, _ v: UInt16) {
        m[i] = UInt8(v & 0xff); m[i + 1] = UInt8(v >> 8)
    }

    private static func put32(_ m: inout [UInt8], _ i: Int, _ v: UInt32) {
        for k in 0..<4 { m[i + k] = UInt8((v >> (8 * UInt32(k))) & 0xff) }
    }
}
