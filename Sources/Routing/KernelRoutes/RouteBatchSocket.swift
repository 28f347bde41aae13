#if canImport(Glibc)
import Glibc
#endif
import Core

/// A raw NETLINK_ROUTE socket that sends many route operations in one send and reads their
/// acknowledgements in bulk, instead of one request and one wait per route as libnl's
/// rtnl_route_add does: the kernel handles every message of a send in turn and acknowledges
/// each, failures included, so one failed route does not stop the others.
final class RouteBatchSocket {
    private let fd: Int32
    private var seq: UInt32 = 1
    /// Operations per send (each acknowledgement is 36 bytes, capped; see NETLINK_CAP_ACK).
    static let batchSize = 512

    /// Opens the socket inside `namespace` (nil: this process's).
    init(namespace: NetNamespace?) throws(KernelError) {
        let open = { () throws(KernelError) -> Int32 in
            // AF_NETLINK 16, SOCK_RAW 3 | SOCK_CLOEXEC, NETLINK_ROUTE 0 (Linux ABI values).
            let fd = socket(16, 3 | 0o2_000_000, 0)
            guard fd >= 0 else { throw KernelError.system("open netlink route socket") }
            var one: Int32 = 1, size: Int32 = 1 << 21
            // SOL_NETLINK 270, NETLINK_CAP_ACK 10: errors echo only the header, not the request.
            _ = setsockopt(fd, 270, 10, &one, socklen_t(MemoryLayout<Int32>.size))
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            return fd
        }
        if let namespace {
            do {
                fd = try namespace.run { try open() }
            } catch let e as KernelError {
                throw e
            } catch {
                throw .invalid("open netlink in \(namespace)", "\(error)")
            }
        } else {
            fd = try open()
        }
    }

    deinit { close(fd) }

    /// Performs `ops` in order; one result per operation (nil: done).
    func perform(_ ops: [KernelRouteOp]) -> [KernelError?] {
        var results: [KernelError?] = []
        results.reserveCapacity(ops.count)
        var start = 0
        while start < ops.count {
            let chunk = ops[start..<min(ops.count, start + Self.batchSize)]
            results += performChunk(chunk)
            start += chunk.count
        }
        return results
    }

    private func performChunk(_ ops: ArraySlice<KernelRouteOp>) -> [KernelError?] {
        let first = seq
        var buf: [UInt8] = []
        buf.reserveCapacity(ops.count * 96)
        for (i, op) in ops.enumerated() { RouteMessageEncoder.encode(op, seq: first &+ UInt32(i), into: &buf) }
        seq &+= UInt32(ops.count)
        var results = [KernelError?](repeating: nil, count: ops.count)
        let sent = buf.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == buf.count else {
            let e = KernelError.system("send \(ops.count) route messages")
            return results.map { _ in e }
        }
        var pending = ops.count
        var acked = [Bool](repeating: false, count: ops.count)
        var reply = [UInt8](repeating: 0, count: 1 << 16)
        while pending > 0 {
            let n = reply.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = KernelError.system("read route acknowledgements")
                for i in acked.indices where !acked[i] { results[i] = e }
                return results
            }
            reply.withUnsafeBytes { bytes in
                let data = UnsafeRawBufferPointer(rebasing: bytes[0..<n])
                var offset = 0
                while let ack = RouteMessageEncoder.acknowledgement(in: data, at: offset) {
                    offset += ack.length
                    let i = Int(ack.seq &- first)
                    guard i >= 0, i < ops.count, !acked[i] else { continue }
                    acked[i] = true
                    pending -= 1
                    if ack.error != 0 { results[i] = .system(Self.describe(ops[ops.startIndex + i]), errno: ack.error) }
                }
            }
        }
        return results
    }

    static func describe(_ op: KernelRouteOp) -> String {
        switch op {
        case .add(let r): return "add route \(r.destination) table \(r.table)"
        case .replace(let r): return "replace route \(r.destination) table \(r.table)"
        case .delete(let r): return "delete route \(r.destination) proto \(r.proto) table \(r.table)"
        }
    }
}
