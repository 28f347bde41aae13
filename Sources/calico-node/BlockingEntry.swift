import Foundation

/// Runs the async entry of a role from a synchronous `main`. An async top-level `main` makes the
/// runtime park the main thread in `dispatch_main`, which ends it with `pthread_exit`: unwinding
/// its stack through the whole executable's unwind tables costs every process ~0.35 ms, and
/// the CNI plugin is exec'd two to four times per pod. Nothing here uses the main actor, so
/// the main thread just waits for the task on the cooperative pool.
enum BlockingEntry {
    static func run(_ body: @escaping @Sendable () async -> Void) {
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            await body()
            done.signal()
        }
        done.wait()
    }
}
