#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Outbound connects that run off the event loop (a blocking connect(2) on a helper thread),
/// so that stopping the speaker is ordered: `close()` refuses new attempts, aborts those in
/// flight, and from then on no attempt hands anything to the event loop, which is about to
/// shut down (scheduling on a shut-down loop is an error in SwiftNIO).
final class PendingConnects: @unchecked Sendable {
    private let lock = NSLock()
    private var closed = false
    private var connecting: Set<Int32> = []

    /// Registers a socket about to block in connect(2); false once closed (do not connect).
    func begin(_ fd: Int32) -> Bool {
        lock.withLock {
            guard !closed else { return false }
            connecting.insert(fd)
            return true
        }
    }

    /// connect(2) returned: forget the socket before it may be closed and its number reused.
    func end(_ fd: Int32) {
        lock.withLock { _ = connecting.remove(fd) }
    }

    /// Runs `handOver` (which schedules on the event loop) unless closed; returns whether it
    /// ran. Holding the lock meanwhile orders every hand-over before `close()`.
    func unlessClosed(_ handOver: () -> Void) -> Bool {
        lock.withLock {
            guard !closed else { return false }
            handOver()
            return true
        }
    }

    /// Refuses further connects and aborts the ones blocked in connect(2): shutdown(2) on a
    /// socket in SYN-SENT disconnects it, so its connect returns at once.
    func close() {
        lock.withLock {
            closed = true
            for fd in connecting { _ = shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }
}
