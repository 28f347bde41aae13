/// Failures programming or reading nftables. Each says what failed and what to check.
public enum NFTError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A system call failed (errno).
    case system(String, errno: Int32)
    /// The kernel rejected the batch: nothing of it was applied. `failures` lists each rejected
    /// message (what it did, and errno).
    case batchRejected([Failure])
    /// The kernel's answer was not what netlink promises.
    case protocolError(String)

    public struct Failure: Sendable, Hashable, CustomStringConvertible {
        public var operation: String
        public var errno: Int32
        public var description: String { "\(operation): \(NFTError.errnoText(errno))" }
    }

    public var description: String {
        switch self {
        case .system(let what, let e):
            return "\(what): \(Self.errnoText(e)) (nftables needs root or CAP_NET_ADMIN and the nf_tables module)"
        case .batchRejected(let failures):
            return "nftables batch rejected, nothing applied: " + failures.map(\.description).joined(separator: "; ")
        case .protocolError(let what): return "nftables netlink: \(what)"
        }
    }

    static func errnoText(_ e: Int32) -> String {
        guard let s = strerror(e) else { return "errno \(e)" }
        return "\(String(cString: s)) (errno \(e))"
    }
}

#if canImport(Glibc)
import Glibc
#endif
