import CCalicoSystem
import Foundation

/// One libcurl multi handle driven by one dedicated thread. Any number of requests and
/// long-lived watch streams share that thread and the multi handle's connection cache
/// (keep-alive reuse, HTTP/2 multiplexing when the server offers it).
///
/// Other threads talk to the loop only through `pending` (under `lock`) plus
/// `curl_multi_wakeup`; the multi handle and `active` are touched by the loop thread alone.
final class CurlMultiLoop: @unchecked Sendable {
    private enum Command {
        case add(CurlTransfer)
        case remove(CurlTransfer)
    }

    let curl: LibCurl
    private let multi: UnsafeMutableRawPointer
    private let lock = NSLock()
    private var pending: [Command] = []
    private var stopping = false
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private let finished = DispatchSemaphore(value: 0)
    /// Set once in init, before the thread starts.
    private weak var thread: Thread?

    /// `maxConnectionsPerHost`: nil for no limit; otherwise requests beyond it wait in libcurl's
    /// queue for a connection to come free (for short-lived callers without watches, such as the
    /// CNI plugin, whose parallel requests then share one TLS handshake).
    init(name: String = "calico-http", maxConnectionsPerHost: Int? = nil) throws {
        curl = try LibCurl.get()
        guard let multi = curl.multiInit() else {
            throw HTTPTransportError(message: "cannot initialise libcurl (curl_multi_init failed)")
        }
        if let limit = maxConnectionsPerHost {
            let code = cs_curl_multi_setopt_long(curl.multiSetopt, multi, CURLMOPT_MAX_HOST_CONNECTIONS, limit)
            guard code == CURLM_OK else {
                _ = curl.multiCleanup(multi)
                throw HTTPTransportError(message: "cannot limit connections per host: " + curl.multiError(code))
            }
        }
        self.multi = multi
        let thread = Thread { [self] in
            _ = cs_set_thread_name(name)  // Thread.name alone never reaches the OS on Linux
            run()
        }
        thread.name = name
        self.thread = thread
        thread.start()
    }

    /// Hands `transfer` (with its sink attached) to the loop.
    func submit(_ transfer: CurlTransfer) {
        if !enqueue(.add(transfer)) { transfer.fail(HTTPTransportError(message: "the Kubernetes client has been shut down")) }
    }

    /// Removes `transfer` from the loop and fails it with CancellationError (no-op once done).
    func cancel(_ transfer: CurlTransfer) {
        _ = enqueue(.remove(transfer))
    }

    /// False once shut down.
    private func enqueue(_ command: Command) -> Bool {
        // Wakeups happen under the lock: the loop frees the multi handle under it once stopping.
        lock.withLock { () -> Bool in
            if stopping { return false }
            pending.append(command)
            curl.multiWakeup(multi)
            return true
        }
    }

    /// Fails everything in flight, stops the thread and waits for it (unless called on the
    /// loop thread itself, as when a stream finishing there drops the last reference). Idempotent.
    func shutdown() {
        let first = lock.withLock { () -> Bool in
            if stopping { return false }
            stopping = true
            curl.multiWakeup(multi)
            return true
        }
        guard first else { return }
        if Thread.current !== thread { finished.wait() }
    }

    /// How many transfers the loop drives (updated before any of them is answered).
    var activeCount: Int { lock.withLock { lastActiveCount } }
    private var lastActiveCount = 0  // guarded by `lock`

    /// New connections opened so far; fewer than requests means keep-alive reuse (for tests and metrics).
    var connectionsOpened: Int { lock.withLock { openedTotal } }
    private var openedTotal = 0  // guarded by `lock`

    // MARK: Loop thread

    private func run() {
        while true {
            let (commands, stop) = lock.withLock { () -> ([Command], Bool) in
                defer { pending.removeAll(keepingCapacity: true) }
                return (pending, stopping)
            }
            for command in commands { apply(command) }
            if stop { break }
            var running: Int32 = 0
            _ = curl.multiPerform(multi, &running)
            collectFinished()
            var ready: Int32 = 0
            // libcurl shortens the wait to its own next timeout; wakeup interrupts it.
            _ = curl.multiPoll(multi, nil, 0, 1000, &ready)
        }
        let closed = HTTPTransportError(message: "the Kubernetes client has been shut down")
        for transfer in active.values {
            curl.multiRemoveHandle(multi, transfer.easy)
            transfer.fail(closed)
        }
        active.removeAll()
        // Adds that raced with shutdown.
        let late = lock.withLock { () -> [Command] in
            curl.multiCleanup(multi)
            defer { pending.removeAll() }
            return pending
        }
        for case .add(let transfer) in late { transfer.fail(closed) }
        finished.signal()
    }

    private func apply(_ command: Command) {
        switch command {
        case .add(let transfer):
            if transfer.cancelRequested {
                transfer.fail(CancellationError())
                return
            }
            let code = curl.multiAddHandle(multi, transfer.easy)
            guard code == CURLM_OK else {
                transfer.fail(HTTPTransportError(message: "cannot start request: " + curl.multiError(code)))
                return
            }
            active[transfer.easy] = transfer
            publishCount()
        case .remove(let transfer):
            guard active.removeValue(forKey: transfer.easy) != nil else {
                transfer.cancelRequested = true
                return
            }
            curl.multiRemoveHandle(multi, transfer.easy)
            publishCount()
            transfer.fail(CancellationError())
        }
    }

    private func collectFinished() {
        var left: Int32 = 0
        while let message = curl.multiInfoRead(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            let code = message.pointee.data.result
            curl.multiRemoveHandle(multi, easy)
            let transfer = active.removeValue(forKey: easy)
            var opened = 0
            _ = cs_curl_getinfo_long(curl.easyGetinfo, easy, CURLINFO_NUM_CONNECTS, &opened)
            lock.withLock { openedTotal += opened }
            publishCount()
            transfer?.complete(code)
        }
    }

    private func publishCount() {
        let count = active.count
        lock.withLock { lastActiveCount = count }
    }
}
