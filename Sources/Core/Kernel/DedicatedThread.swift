#if canImport(Glibc)
import Glibc
#endif

/// A one-shot POSIX thread. Namespace work needs a thread of its own because setns/unshare change
/// the calling thread only, and a pooled thread must never be handed back switched.
enum DedicatedThread {
    private final class Work {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Runs `body` on a new thread and waits for it to end.
    static func runAndJoin(_ body: () -> Void) throws(KernelError) {
        try withoutActuallyEscaping(body) { (escapable) throws(KernelError) in
            let thread = try start(escapable)
            pthread_join(thread, nil)
        }
    }

    /// Runs `body` on a new thread and returns at once.
    static func detach(_ body: @escaping () -> Void) throws(KernelError) {
        pthread_detach(try start(body))
    }

    private static func start(_ body: @escaping () -> Void) throws(KernelError) -> pthread_t {
        let box = Unmanaged.passRetained(Work(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<Work>.fromOpaque(raw).takeRetainedValue().body()
            return nil
        }, box)
        guard rc == 0 else {
            Unmanaged<Work>.fromOpaque(box).release()
            throw .system("start a namespace thread", errno: rc)
        }
        return thread
    }
}
