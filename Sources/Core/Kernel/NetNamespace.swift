#if canImport(Glibc)
import Glibc
#endif
import CCalicoSystem

/// A network namespace named by a file: `/var/run/netns/NAME` (as `ip netns` makes them) or
/// `/proc/PID/ns/net`. Work inside it runs on a fresh thread that enters the namespace with
/// setns(2), which switches only the calling thread; that thread ends with the work, so the
/// caller's thread (and any pooled thread) is never left in another namespace.
public struct NetNamespace: Sendable, Hashable, CustomStringConvertible {
    /// Where `ip netns` keeps its named namespaces.
    public static let namedDirectory = "/var/run/netns"

    public let path: String

    public init(path: String) { self.path = path }

    /// `ip netns` namespace NAME (whether or not it exists yet).
    public static func named(_ name: String) -> NetNamespace { NetNamespace(path: "\(namedDirectory)/\(name)") }

    /// The namespace process PID lives in.
    public static func process(_ pid: Int32) -> NetNamespace { NetNamespace(path: "/proc/\(pid)/ns/net") }

    public var description: String { path }

    /// Opens the namespace file (O_CLOEXEC); the caller closes the descriptor. Used for
    /// IFLA_NET_NS_FD (create or move a link straight into the namespace).
    public func openDescriptor() throws(KernelError) -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("open network namespace \(path)") }
        return fd
    }

    /// Runs `body` inside this namespace on a dedicated thread and returns its value; the caller
    /// blocks meanwhile. Errors entering the namespace are `KernelError`; `body`'s own pass through.
    public func run<T>(_ body: () throws -> T) throws -> T {
        let fd = try openDescriptor()
        defer { close(fd) }
        var outcome: Result<T, Error>?
        try withoutActuallyEscaping(body) { escapable in
            try DedicatedThread.runAndJoin {
                guard cs_setns(fd, CS_CLONE_NEWNET) == 0 else {
                    outcome = .failure(KernelError.system("enter network namespace \(path)"))
                    return
                }
                outcome = Result { try escapable() }
            }
        }
        return try outcome!.get()
    }

    /// The async form of `run`: the awaiting task is suspended, not blocked.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let ns = self
        return try await withCheckedThrowingContinuation { (cont: CheckedContinuation<T, Error>) in
            do {
                try DedicatedThread.detach {
                    cont.resume(with: Result { try ns.run(body) })
                }
            } catch {
                cont.resume(throwing: error)
            }
        }
    }

    /// Device and inode of the namespace file: two paths name the same namespace iff these match.
    public func identity() throws(KernelError) -> (device: UInt64, inode: UInt64) {
        var st = stat()
        guard stat(path, &st) == 0 else { throw .system("stat network namespace \(path)") }
        return (UInt64(st.st_dev), UInt64(st.st_ino))
    }
}

/// Named namespaces, as `ip netns add/del` make and remove them (for the dev cluster and tests).
extension NetNamespace {
    /// Creates namespace NAME: a fresh network namespace (only loopback, down) kept alive by a bind
    /// mount of the creating thread's namespace file onto /var/run/netns/NAME.
    @discardableResult
    public static func create(name: String) throws(KernelError) -> NetNamespace {
        let op = "create network namespace \(name)"
        guard isValidName(name) else {
            throw .invalid(op, "a namespace name is 1-255 characters without '/' and not '.' or '..'")
        }
        let ns = named(name)
        if mkdir(namedDirectory, 0o755) != 0 && errno != EEXIST { throw .system("\(op): mkdir \(namedDirectory)") }
        let fd = open(ns.path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0)
        guard fd >= 0 else { throw .system(op) }
        close(fd)
        var failure: KernelError?
        do {
            try DedicatedThread.runAndJoin {
                // unshare(CLONE_NEWNET) moves only this thread; /proc/thread-self names it (not /proc/self,
                // which is the main thread).
                guard cs_unshare(CS_CLONE_NEWNET) == 0 else { failure = .system("\(op): unshare"); return }
                if mount("/proc/thread-self/ns/net", ns.path, "none", UInt(MS_BIND), nil) != 0 {
                    failure = .system("\(op): bind mount")
                }
            }
        } catch let e {
            failure = e
        }
        if let failure {
            unlink(ns.path)
            throw failure
        }
        return ns
    }

    /// Removes namespace NAME (lazy unmount, then the file). The namespace itself lives on while
    /// a process or open descriptor still holds it, as with `ip netns del`.
    public static func delete(name: String) throws(KernelError) {
        let op = "delete network namespace \(name)"
        guard isValidName(name) else { throw .invalid(op, "not a namespace name") }
        let path = named(name).path
        if umount2(path, Int32(MNT_DETACH)) != 0 && errno != EINVAL && errno != ENOENT {
            throw .system("\(op): unmount")
        }
        guard unlink(path) == 0 else { throw .system(op) }
    }

    /// Names under /var/run/netns.
    public static func listNamed() -> [String] {
        guard let dir = opendir(namedDirectory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 255 && !name.contains("/") && name != "." && name != ".."
            && !name.contains("\0")
    }
}
