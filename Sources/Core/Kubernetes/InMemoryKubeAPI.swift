import Foundation

/// An in-memory `KubeAPI`: objects stored as JSON per kind, a global resourceVersion counter,
/// optimistic concurrency on update, an event log that watches replay from, and fault injection
/// (failing calls, dropped watches, compaction that makes old versions answer 410). Unit tests of
/// every module and offline tools (explain) use it in place of a server.
public final class InMemoryKubeAPI: KubeAPI, @unchecked Sendable {
    private struct Logged { var rv: Int; var plural: String; var type: String; var object: JSONValue }
    private struct Watcher { var plural: String; var namespace: String?; var yield: @Sendable (String, JSONValue) -> Void; var finish: @Sendable (Error?) -> Void }

    private let lock = NSLock()
    private var rv = 100
    private var store: [String: [String: JSONValue]] = [:]
    private var log: [Logged] = []
    private var compactedBelow = 0
    private var watchers: [Int: Watcher] = [:]
    private var nextWatcher = 0
    private var failures: [Error] = []
    public private(set) var listCalls = 0
    /// The resourceVersion of every watch request, failed ones included.
    public private(set) var watchFrom: [String] = []

    private func locked<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    private static func key(_ json: JSONValue) -> String {
        let name = json["metadata"]?["name"]?.stringValue ?? ""
        if let ns = json["metadata"]?["namespace"]?.stringValue, !ns.isEmpty { return "\(ns)/\(name)" }
        return name
    }

    private static func status(_ code: Int, _ message: String) -> APIStatus {
        APIStatus(message: message, reason: nil, code: code)
    }

    // MARK: fault injection

    /// The next `count` list or watch calls fail with `error`.
    public func failNext(_ count: Int, with error: Error) { locked { failures += Array(repeating: error, count: count) } }

    /// Ends every open watch normally, as a dropped connection looks to the client.
    public func dropWatches() {
        let open = locked { () -> [Watcher] in defer { watchers.removeAll() }; return Array(watchers.values) }
        for w in open { w.finish(nil) }
    }

    /// Forgets history: watches from any version before now answer 410.
    public func compact() { locked { compactedBelow = rv; log.removeAll() } }

    /// Sends a bookmark at the current version to every watch.
    public func bookmark() {
        locked {
            for w in watchers.values { w.yield("BOOKMARK", .object(["metadata": .object(["resourceVersion": .string(String(rv))])])) }
        }
    }

    public var currentVersion: String { locked { String(rv) } }
    public var watcherCount: Int { locked { watchers.count } }

    private var partitioned = false

    public init() {}

    /// Drops every watch and fails every call with a transport error until `heal()`.
    public func partition() {
        locked { partitioned = true }
        dropWatches()
    }

    public func heal() { locked { partitioned = false } }

    private func takeFailure() -> Error? {
        locked {
            if partitioned { return KubeError.transport("connection refused (test partition)") }
            return failures.isEmpty ? nil : failures.removeFirst()
        }
    }

    // MARK: writes

    /// `check` sees the stored object under the same lock as the write, so that a create or a
    /// versioned update is atomic: of two racing writers from one version only one succeeds.
    private func write(_ plural: String, _ json: JSONValue, type: String,
                       check: (JSONValue?) throws -> Void = { _ in }) throws -> JSONValue {
        // Yields happen under the lock so that a watch's replay and live events never interleave.
        return try locked { () -> JSONValue in
            try check(store[plural]?[Self.key(json)])
            rv += 1
            var obj = json
            obj["metadata"]?["resourceVersion"] = .string(String(rv))
            let k = Self.key(obj)
            if type == "DELETED" { store[plural]?[k] = nil } else { store[plural, default: [:]][k] = obj }
            log.append(Logged(rv: rv, plural: plural, type: type, object: obj))
            let ns = obj["metadata"]?["namespace"]?.stringValue
            for w in watchers.values where w.plural == plural && (w.namespace == nil || w.namespace == ns) { w.yield(type, obj) }
            return obj
        }
    }

    private func existing(_ plural: String, _ key: String) -> JSONValue? { locked { store[plural]?[key] } }

    public func create<T: KubeResource>(_ object: T) async throws -> T {
        let json = try object.encodedForWrite()
        return try T.decode(from: write(T.resource.description, json, type: "ADDED") { current in
            guard current == nil else { throw KubeError.conflict(Self.status(409, "exists")) }
        })
    }

    public func update<T: KubeResource>(_ object: T) async throws -> T {
        let json = try object.encodedForWrite()
        return try T.decode(from: write(T.resource.description, json, type: "MODIFIED") { current in
            guard let old = current else { throw KubeError.notFound(Self.status(404, "missing")) }
            if let want = object.metadata.resourceVersion, want != old["metadata"]?["resourceVersion"]?.stringValue {
                throw KubeError.conflict(Self.status(409, "stale"))
            }
        })
    }

    public func patch<T: KubeResource>(_ type: T.Type, name: String, namespace: String?, mergePatch: JSONValue) async throws -> T {
        let k = ReflectorCache<T>.key(ObjectMeta(name: name, namespace: namespace))
        guard let old = existing(T.resource.description, k) else { throw KubeError.notFound(Self.status(404, "missing")) }
        return try T.decode(from: try write(T.resource.description, old.mergePatched(with: mergePatch), type: "MODIFIED"))
    }

    public func delete<T: KubeResource>(_ type: T.Type, name: String, namespace: String?) async throws {
        let k = ReflectorCache<T>.key(ObjectMeta(name: name, namespace: namespace))
        guard let old = existing(T.resource.description, k) else { throw KubeError.notFound(Self.status(404, "missing")) }
        _ = try write(T.resource.description, old, type: "DELETED")
    }

    public func get<T: KubeResource>(_ type: T.Type, name: String, namespace: String?) async throws -> T {
        let k = ReflectorCache<T>.key(ObjectMeta(name: name, namespace: namespace))
        guard let json = existing(T.resource.description, k) else { throw KubeError.notFound(Self.status(404, "missing")) }
        return try T.decode(from: json)
    }

    // MARK: reads

    /// Pages are slices of the sorted keys; the continue token is the next offset.
    public func listPage<T: KubeResource>(_ type: T.Type, options: ListOptions) async throws -> ResourceList<T> {
        if let e = takeFailure() { throw e }
        let (objects, version) = locked { () -> ([JSONValue], Int) in
            listCalls += 1
            let all = (store[T.resource.description] ?? [:]).sorted { $0.key < $1.key }.map(\.value)
            return (all.filter { options.namespace == nil || $0["metadata"]?["namespace"]?.stringValue == options.namespace }, rv)
        }
        let start = Int(options.continueToken ?? "0") ?? 0
        let end = min(objects.count, start + (options.limit ?? objects.count))
        let items = try objects[min(start, end)..<end].map { try T.decode(from: $0) }
        return ResourceList(items: items, resourceVersion: String(version), continueToken: end < objects.count ? String(end) : nil)
    }

    public func watch<T: KubeResource>(_ type: T.Type, options: ListOptions) -> AsyncThrowingStream<WatchEvent<T>, Error> {
        let (stream, continuation) = AsyncThrowingStream<WatchEvent<T>, Error>.makeStream()
        locked { watchFrom.append(options.resourceVersion ?? "") }
        if let e = takeFailure() {
            continuation.finish(throwing: e)
            return stream
        }
        let from = Int(options.resourceVersion ?? "0") ?? 0
        let yield: @Sendable (String, JSONValue) -> Void = { type, json in
            guard let kind = WatchEvent<T>.Kind(rawValue: type) else { return }
            var obj = json
            if obj["metadata"]?["name"] == nil { obj["metadata"]?["name"] = .string("") }
            if let decoded = try? T.decode(from: obj) { continuation.yield(WatchEvent(kind: kind, object: decoded)) }
        }
        let finish: @Sendable (Error?) -> Void = { continuation.finish(throwing: $0) }
        let replay: [Logged]? = locked {
            if from < compactedBelow { return nil }
            let id = nextWatcher
            nextWatcher += 1
            watchers[id] = Watcher(plural: T.resource.description, namespace: options.namespace, yield: yield, finish: finish)
            continuation.onTermination = { [weak self] _ in self?.locked { self?.watchers[id] = nil } }
            let replay = log.filter { $0.plural == T.resource.description && $0.rv > from }
            for e in replay { yield(e.type, e.object) }
            return replay
        }
        guard let replay else {
            continuation.finish(throwing: KubeError.gone(Self.status(410, "too old resource version: \(from)")))
            return stream
        }
        return stream
    }
}
