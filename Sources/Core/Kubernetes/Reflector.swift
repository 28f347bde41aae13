import Logging

/// Keeps a typed cache of one kind in step with the API server: a paginated list, then a watch
/// from the list's resourceVersion (with bookmarks). A 410 Gone relists and reports only real
/// differences; a dropped or ended watch, a transport error or a 5xx reconnects from the last
/// resourceVersion after a capped, jittered exponential backoff that resets after success.
/// Pure async: many reflectors share one process and the transport's single I/O loop.
public actor Reflector<T: KubeResource> {
    public let options: ReflectorOptions
    private let api: any KubeAPI
    private let logger: Logger
    private var cache = ReflectorCache<T>()
    private var subscribers: [Int: AsyncStream<ReflectorEvent<T>>.Continuation] = [:]
    private var nextSubscriber = 0
    private var syncWaiters: [CheckedContinuation<Void, Never>] = []
    private var runner: Task<Void, Never>?
    private var stopped = false

    /// True once the first complete list has been applied.
    public private(set) var isSynced = false
    /// The version the next watch starts from (advanced by events and bookmarks).
    public private(set) var resourceVersion: String?
    /// How many times the reflector listed (1 after the initial sync; one more per 410).
    public private(set) var listCount = 0
    /// Consecutive failures since the last success; drives the backoff.
    public private(set) var failures = 0
    /// The last error seen, for health reporting; nil after a success.
    public private(set) var lastError: String?

    public init(api: any KubeAPI, options: ReflectorOptions = ReflectorOptions(), logger: Logger? = nil) {
        self.api = api
        self.options = options
        self.logger = logger ?? Logger(label: "calico.reflector.\(T.resource.plural)")
    }

    /// Starts listing and watching; calling it again does nothing.
    public func start() {
        guard runner == nil, !stopped else { return }
        runner = Task { await self.run() }
    }

    /// Stops the watch and ends every event stream.
    public func stop() {
        stopped = true
        runner?.cancel()
        runner = nil
        for c in subscribers.values { c.finish() }
        subscribers.removeAll()
        resumeSyncWaiters()
    }

    /// Changes from now on. A subscriber that joins after data arrived first gets the current
    /// cache as `.added` events (and `.synced` if synced), so that it never misses state.
    public func events() -> AsyncStream<ReflectorEvent<T>> {
        let (stream, continuation) = AsyncStream<ReflectorEvent<T>>.makeStream(bufferingPolicy: .unbounded)
        for obj in cache.items.values { continuation.yield(.added(obj)) }
        if isSynced { continuation.yield(.synced) }
        let id = nextSubscriber
        nextSubscriber += 1
        subscribers[id] = continuation
        continuation.onTermination = { [weak self] _ in
            Task { await self?.unsubscribe(id) }
        }
        return stream
    }

    /// Returns once the first list is applied (or the reflector is stopped).
    public func waitForSync() async {
        if isSynced || stopped { return }
        await withCheckedContinuation { syncWaiters.append($0) }
    }

    /// The cache, keyed by `namespace/name` (just `name` for cluster-scoped kinds).
    public func snapshot() -> [String: T] { cache.items }

    public func get(name: String, namespace: String? = nil) -> T? {
        cache[ReflectorCache<T>.key(ObjectMeta(name: name, namespace: namespace))]
    }

    public var count: Int { cache.count }

    private func unsubscribe(_ id: Int) { subscribers[id] = nil }

    private func publish(_ event: ReflectorEvent<T>) {
        for c in subscribers.values { c.yield(event) }
    }

    private func resumeSyncWaiters() {
        let waiters = syncWaiters
        syncWaiters.removeAll()
        for w in waiters { w.resume() }
    }

    // MARK: - The loop

    private func run() async {
        var needList = true
        while !Task.isCancelled {
            do {
                if needList {
                    try await relist()
                    needList = false
                    succeeded()
                }
                let progressed = try await watchOnce()
                if progressed { succeeded() }
                // A watch the server (or the network) ended: resume from resourceVersion.
                try await pause(reason: "watch ended")
            } catch is CancellationError {
                break
            } catch KubeError.gone(let status) {
                logger.info("resourceVersion \(resourceVersion ?? "?") too old (\(status.message ?? "410 Gone")); relisting")
                // A list that itself answers 410 (an expired continue token) waits like any failure.
                if needList {
                    lastError = "\(KubeError.gone(status))"
                    do { try await pause(reason: "410 during list") } catch { break }
                }
                needList = true
            } catch {
                lastError = "\(error)"
                logger.warning("\(T.resource.plural): \(error); retrying")
                do { try await pause(reason: "\(error)") } catch { break }
            }
        }
    }

    private func succeeded() {
        failures = 0
        lastError = nil
    }

    private func pause(reason: String) async throws {
        let delay = options.backoff.delay(attempt: failures)
        failures += 1
        logger.debug("\(T.resource.plural): reconnecting in \(delay)s after \(reason)")
        try await Task.sleep(nanoseconds: UInt64(delay * 1_000_000_000))
    }

    private func relist() async throws {
        let list = try await api.list(T.self, options: options.listOptions())
        try Task.checkCancellation()
        let changes = cache.replace(with: list.items)
        resourceVersion = list.resourceVersion
        listCount += 1
        for change in changes { publish(change) }
        if !isSynced {
            isSynced = true
            publish(.synced)
            resumeSyncWaiters()
        }
    }

    /// Follows one watch until it ends; true when it delivered an event or stayed up a while
    /// (a quiet watch the server ends at its timeout is a success, not a failure).
    private func watchOnce() async throws -> Bool {
        guard let rv = resourceVersion else { throw KubeError.gone(APIStatus(message: "no resourceVersion", reason: nil, code: 410)) }
        let clock = ContinuousClock()
        let started = clock.now
        var progressed = false
        for try await event in api.watch(T.self, options: options.watchOptions(from: rv)) {
            if let v = event.object.metadata.resourceVersion, !v.isEmpty { resourceVersion = v }
            if let change = cache.apply(event) { publish(change) }
            if !progressed {
                progressed = true
                succeeded()
            }
        }
        try Task.checkCancellation()
        return progressed || clock.now - started >= .seconds(1)
    }
}
