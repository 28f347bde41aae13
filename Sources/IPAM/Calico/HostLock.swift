import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The host-wide IPAM lock: an exclusive flock on one file, so that concurrent plugin runs on
/// a node (kubelet starts pods in parallel) allocate one at a time and never race each other
/// for the node's blocks. Released on `unlock()` or when the process exits.
public final class HostLock: @unchecked Sendable {
    public static let defaultPath = "/var/run/calico/ipam.lock"
    /// Overrides the path (tests, unprivileged runs).
    public static let environmentVariable = "CALICO_IPAM_LOCK_FILE"

    public let path: String
    private var fd: Int32

    public static func path(environment: [String: String]) -> String {
        if let p = environment[environmentVariable], !p.isEmpty { return p }
        return defaultPath
    }

    /// Opens (creating it and its directory) and locks the file, waiting for other holders.
    public init(path: String) throws(IPAMError) {
        self.path = path
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .lockFailed(path: path, reason: String(cString: strerror(errno))) }
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .lockFailed(path: path, reason: reason)
        }
        self.fd = fd
    }

    public func unlock() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { unlock() }
}
