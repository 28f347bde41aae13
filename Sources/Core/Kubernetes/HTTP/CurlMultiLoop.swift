import CCalicoSystem
import Foundation

/// One libcurl multi handle driven by one dedicated thread. Any number of requests and
/// long-lived watch streams share that thread and the multi handle's connection cache
/// (keep-alive reuse, HTTP/2 multiplexing when the server offers it).
///
/// Other threads talk to the loop only through `pending` (under `lock`) plus
/// `curl_multi_wakeup`; the multi handle, `active` and `queued` are touched by the loop thread alone.
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
    /// Transfers beyond `maxInFlight`, first in first out, not yet handed to libcurl.
    private var queued: [CurlTransfer] = []
    private let maxInFlight: Int?
    /// Set once an answer came over HTTP/2 (or 3): libcurl then multiplexes further transfers
    /// on that one connection, so `maxInFlight` no longer holds them back.
    private var multiplexing = false  // loop thread
    private let finished = DispatchSemaphore(value: 0)
    /// Set once in init, before the thread starts.
    private weak var thread: Thread?

    /// `maxInFlight`: nil for no limit; otherwise transfers beyond it wait in this loop's own
    /// queue and each starts, on a kept-alive connection, as soon as one in flight is answered
    /// (for short-lived callers without watches, such as the CNI plugin, whose parallel requests
    /// then share one TLS handshake). Once an answer came over HTTP/2 the limit is lifted, as the
    /// transfers then share the connection as streams. Not libcurl's CURLMOPT_MAX_HOST_CONNECTIONS
    /// queue: libcurl 7.88 at times left a transfer queued there with no timer, so it waited for
    /// the 1 s poll cap.
    init(name: String = "calico-http", maxInFlight: Int? = nil) throws {
        curl = try LibCurl.get()
        guard let multi = curl.multiInit() else {
            throw HTTPTransportError(message: "cannot initialise libcurl (curl_multi_init failed)")
        }
        self.multi = multi
        self.maxInFlight = maxInFlight.map { max(1, $0) }
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

    /// How many transfers the loop holds, queued ones included (updated before any is answered).
    var activeCount: Int { lock.withLock { lastActiveCount } }
    private var lastActiveCount = 0  // guarded by `lock`

    /// New connections opened so far; fewer than requests means keep-alive reuse (for tests and metrics).
    var connectionsOpened: Int { lock.withLock { openedTotal } }
    private var openedTotal = 0  // guarded by `lock`

    /// Whether an answer came over HTTP/2 or later, lifting `maxInFlight` (for tests).
    var multiplexes: Bool { lock.withLock { sawMultiplexing } }
    private var sawMultiplexing = false  // guarded by `lock`

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
            // A queued transfer that took a freed slot is driven at once, not after a poll.
            if collectFinished() { continue }
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
        for transfer in queued { transfer.fail(closed) }
        queued.removeAll()
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
            if let limit = maxInFlight, !multiplexing, active.count >= limit {
                queued.append(transfer)
                publishCount()
                return
            }
            start(transfer)
        case .remove(let transfer):
            if let index = queued.firstIndex(where: { $0 === transfer }) {
                queued.remove(at: index)
                publishCount()
                transfer.fail(CancellationError())
                return
            }
            guard active.removeValue(forKey: transfer.easy) != nil else {
                transfer.cancelRequested = true
                return
            }
            curl.multiRemoveHandle(multi, transfer.easy)
            publishCount()
            transfer.fail(CancellationError())
        }
    }

    /// Hands `transfer` to libcurl.
    private func start(_ transfer: CurlTransfer) {
        let code = curl.multiAddHandle(multi, transfer.easy)
        guard code == CURLM_OK else {
            publishCount()
            transfer.fail(HTTPTransportError(message: "cannot start request: " + curl.multiError(code)))
            return
        }
        active[transfer.easy] = transfer
        publishCount()
    }

    /// Queued transfers moved into free slots; true when any was started.
    private func admitQueued() -> Bool {
        var started = false
        while let limit = maxInFlight, multiplexing || active.count < limit, !queued.isEmpty {
            start(queued.removeFirst())
            started = true
        }
        return started
    }

    /// Answers the finished transfers; true when queued ones were started in their place.
    private func collectFinished() -> Bool {
        var left: Int32 = 0
        while let message = curl.multiInfoRead(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            let code = message.pointee.data.result
            curl.multiRemoveHandle(multi, easy)
            let transfer = active.removeValue(forKey: easy)
            var opened = 0
            _ = cs_curl_getinfo_long(curl.easyGetinfo, easy, CURLINFO_NUM_CONNECTS, &opened)
            var version = 0
            _ = cs_curl_getinfo_long(curl.easyGetinfo, easy, CURLINFO_HTTP_VERSION, &version)
            if code == CURLE_OK, version >= CURL_HTTP_VERSION_2_0 { multiplexing = true }
            lock.withLock {
                openedTotal += opened
                sawMultiplexing = multiplexing
            }
            publishCount()
            transfer?.complete(code)
        }
        return admitQueued()
    }

    private func publishCount() {
        let count = active.count + queued.count
        lock.withLock { lastActiveCount = count }
    }
}
