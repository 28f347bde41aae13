import Core
import Foundation

/// What a watch stream receives, in order.
enum WatchItem: Sendable {
    case event(EventType, StoredObject)
    /// A BOOKMARK; `initialEventsEnd` marks the end of the replay asked for with sendInitialEvents.
    case bookmark(UInt64, initialEventsEnd: Bool = false)
    /// Sent once, after which the stream ends (410 Gone and the like).
    case error(StoreError)
}

/// The receiving end of a watch (a NIO stream in the server, an array in tests). `enqueue` is
/// called with the store's lock held, so it must only queue, never block.
protocol WatchSink: AnyObject, Sendable {
    func enqueue(_ items: [WatchItem])
    /// Ends the stream abruptly (fault injection: drop-watches).
    func abort()
}

/// The store behind a lock, plus the registry of watchers that every change fans out to.
/// Enqueuing happens under the lock, so each watcher sees events in resourceVersion order with
/// no gap between its initial replay and the live stream.
final class SharedStore: @unchecked Sendable {
    private struct Watcher {
        var filter: ObjectFilter
        var sink: WatchSink
    }

    private let lock = NSLock()
    private var store: Store
    private var watchers: [ResourceKind: [Int: Watcher]] = [:]
    private var nextWatcherID = 0
    private var changeListener: (@Sendable () -> Void)?

    init(_ store: Store) { self.store = store }

    /// Called (outside the lock) after every change that produced events; used for persistence.
    func onChange(_ listener: @escaping @Sendable () -> Void) {
        lock.withLock { changeListener = listener }
    }

    func read<T>(_ body: (Store) throws(StoreError) -> T) throws(StoreError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(store)
    }

    /// A copy of the whole state (cheap: copy-on-write), e.g. to write a snapshot.
    var snapshot: Store { lock.withLock { store } }

    var resourceVersion: UInt64 { lock.withLock { store.resourceVersion } }

    @discardableResult
    func write(_ body: (inout Store) throws(StoreError) -> Mutation) throws(StoreError) -> StoredObject {
        lock.lock()
        let mutation: Mutation
        do {
            mutation = try body(&store)
        } catch {
            lock.unlock()
            throw error
        }
        for event in mutation.events {
            for w in (watchers[event.kind] ?? [:]).values {
                if let type = w.filter.view(of: event) { w.sink.enqueue([.event(type, event.object)]) }
            }
        }
        let listener = mutation.events.isEmpty ? nil : changeListener
        lock.unlock()
        listener?()
        return mutation.object
    }

    /// Runs a write against a copy of the state and discards it (`?dryRun=All`): the answer is
    /// what the write would return, with nothing stored and no event sent.
    func dryRun(_ body: (inout Store) throws(StoreError) -> Mutation) throws(StoreError) -> StoredObject {
        var copy = snapshot
        return try body(&copy).object
    }

    /// Registers a watch. With no resourceVersion (or "0") it starts with a synthetic ADDED per
    /// matching object; otherwise it replays the retained history after that version, or sends
    /// one 410 ERROR if the history no longer reaches back that far.
    func watch(_ filter: ObjectFilter, from resourceVersion: String?, sendInitialEvents: Bool = false, sink: WatchSink) throws(StoreError) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        var initial: [WatchItem] = []
        if !sendInitialEvents, let rvText = resourceVersion, !rvText.isEmpty, rvText != "0" {
            guard let rv = UInt64(rvText) else { throw .badRequest("invalid resourceVersion \"\(rvText)\"") }
            do {
                for e in try store.events(after: rv) {
                    if let type = filter.view(of: e) { initial.append(.event(type, e.object)) }
                }
            } catch {
                sink.enqueue([.error(error)])
                return nil
            }
        } else {
            for o in try store.list(filter).items { initial.append(.event(.added, o)) }
            if sendInitialEvents { initial.append(.bookmark(store.resourceVersion, initialEventsEnd: true)) }
        }
        if !initial.isEmpty { sink.enqueue(initial) }
        nextWatcherID += 1
        watchers[filter.kind, default: [:]][nextWatcherID] = Watcher(filter: filter, sink: sink)
        return nextWatcherID
    }

    func unwatch(_ id: Int, kind: ResourceKind) {
        lock.withLock { _ = watchers[kind]?.removeValue(forKey: id) }
    }

    /// Queues a BOOKMARK at the current resourceVersion behind everything already queued.
    func bookmark(_ id: Int, kind: ResourceKind) {
        lock.withLock {
            watchers[kind]?[id]?.sink.enqueue([.bookmark(store.resourceVersion)])
        }
    }

    var watcherCount: Int { lock.withLock { watchers.values.reduce(0) { $0 + $1.count } } }

    /// Fault: ends every open watch abruptly.
    func dropWatches() -> Int {
        let sinks: [WatchSink] = lock.withLock {
            let all = watchers.values.flatMap { $0.values.map(\.sink) }
            watchers = [:]
            return all
        }
        sinks.forEach { $0.abort() }
        return sinks.count
    }

    /// Fault: forgets the watch history, so any older resourceVersion gets 410 Gone.
    func compact() -> UInt64 {
        lock.withLock {
            store.history.compact(through: store.resourceVersion)
            return store.resourceVersion
        }
    }
}
