#if canImport(Glibc)
import Glibc
#endif
import CCalicoSystem

/// A failed kernel operation: what we were doing, and what the kernel (or libnl) said.
public struct KernelError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Source: Sendable, Equatable {
        /// A libnl error (NLE_*, positive), which libnl maps from the kernel's errno.
        case netlink(Int32)
        /// A system call's errno.
        case errno(Int32)
        /// We refused the request before asking the kernel (bad name, wrong family, ...).
        case invalidArgument
    }

    /// What was being done, e.g. `add route 10.0.0.0/24 table 254`.
    public var operation: String
    public var source: Source
    /// The library's or system's text for the error, plus any hint.
    public var message: String

    public init(operation: String, source: Source, message: String) {
        self.operation = operation
        self.source = source
        self.message = message
    }

    /// From a libnl return code (negative NLE_* as returned, or positive).
    public static func netlink(_ code: Int32, _ operation: String) -> KernelError {
        let c = abs(code)
        return KernelError(operation: operation, source: .netlink(c), message: String(cString: nl_geterror(c)))
    }

    /// From the current `errno`.
    public static func system(_ operation: String, errno code: Int32 = errno) -> KernelError {
        KernelError(operation: operation, source: .errno(code), message: String(cString: strerror(code)))
    }

    public static func invalid(_ operation: String, _ why: String) -> KernelError {
        KernelError(operation: operation, source: .invalidArgument, message: why)
    }

    /// The object already exists (EEXIST / NLE_EXIST).
    public var isAlreadyExists: Bool { source == .netlink(NLE_EXIST) || source == .errno(EEXIST) }

    /// The object (link, route, address, namespace) is not there.
    public var isNotFound: Bool {
        switch source {
        case .netlink(let c): return c == NLE_OBJ_NOTFOUND || c == NLE_NODEV || c == NLE_NOADDR
        case .errno(let e): return e == ENOENT || e == ENODEV || e == ESRCH
        case .invalidArgument: return false
        }
    }

    public var description: String {
        let hint: String
        switch source {
        case .netlink(NLE_PERM), .netlink(NLE_NOACCESS), .errno(EPERM), .errno(EACCES):
            hint = " (needs root or CAP_NET_ADMIN)"
        default:
            hint = ""
        }
        return "\(operation): \(message)\(hint)"
    }
}
