#if canImport(Glibc)
import Glibc
#endif

/// A plain pthread mutex around a closure, for state shared with threads of our own (netlink
/// sockets, the nftables programmer). Not Foundation's NSLock: that would load Foundation, and
/// with it ICU, into felix's path, which needs nothing else from it. Not `Mutex`: its
/// `withLock` wants `sending` results, which non-Sendable socket pointers are not.
public final class ThreadLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
