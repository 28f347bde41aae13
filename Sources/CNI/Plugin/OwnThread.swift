import Foundation

/// Blocking work (netlink calls the kernel takes its time over) on a thread of its own, so it
/// overlaps with other blocking work of the invocation instead of holding one of the few
/// threads of Swift's cooperative pool.
final class OwnThread<T: Sendable>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var outcome: Result<T, Error>?

    private init() {}

    static func start(_ body: @escaping @Sendable () throws -> T) -> OwnThread<T> {
        let t = OwnThread<T>()
        Thread.detachNewThread {
            t.outcome = Result { try body() }
            t.done.signal()
        }
        return t
    }

    /// Blocks until the work is done; its value or error.
    func wait() throws -> T {
        done.wait()
        return try outcome!.get()
    }
}
