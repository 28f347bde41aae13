#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Blocking AF_UNIX stream sockets for the plugin side (no NIO, no libcurl: a CNI invocation
/// lives for milliseconds and makes a handful of requests).
enum UnixSocketConnection {
    struct Failure: Error, Equatable, CustomStringConvertible {
        var message: String
        var errno: Int32
        var description: String { message }
    }

    // Linux ABI values: a whole-module (release) build does not see Glibc's SOCK_* enum cases
    // (see CSystem/shim.h).
    /// SOCK_STREAM (1) | SOCK_CLOEXEC (0o2000000).
    static let streamCloexec: Int32 = 1 | 0o2000000
    /// SOCK_NONBLOCK (0o4000).
    static let sockNonBlock: Int32 = 0o4000

    /// A connected socket (close-on-exec). `timeout` bounds the connect; `nonBlocking` leaves
    /// the socket non-blocking, and a listener whose backlog is full counts as connected then.
    static func connect(_ path: String, timeout: Double, nonBlocking: Bool = false) throws(Failure) -> Int32 {
        var address = try address(path)
        let type = streamCloexec | (nonBlocking ? sockNonBlock : 0)
        let fd = socket(AF_UNIX, type, 0)
        guard fd >= 0 else { throw Failure(message: "socket(AF_UNIX): \(String(cString: strerror(errno)))", errno: errno) }
        if !nonBlocking { setTimeout(fd, SO_SNDTIMEO, timeout) }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc != 0 {
            let e = errno
            // Non-blocking: EAGAIN means a listener whose backlog is full (it is alive).
            if nonBlocking && e == EAGAIN { return fd }
            close(fd)
            throw Failure(message: "connect to \(path): \(String(cString: strerror(e)))", errno: e)
        }
        return fd
    }

    /// The sockaddr_un of `path` (at most 107 bytes on Linux).
    static func address(_ path: String) throws(Failure) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !bytes.isEmpty, bytes.count < capacity, !bytes.contains(0) else {
            throw Failure(message: "socket path \(path) must be 1 to \(capacity - 1) bytes", errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }

    static func setTimeout(_ fd: Int32, _ option: Int32, _ seconds: Double) {
        let s = max(seconds, 0.001)
        var tv = timeval(tv_sec: Int(s), tv_usec: Int((s - Double(Int(s))) * 1_000_000))
        _ = setsockopt(fd, SOL_SOCKET, option, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Writes all of `data`; false on an error or a timeout (SO_SNDTIMEO).
    static func writeAll(_ fd: Int32, _ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
    }
}
