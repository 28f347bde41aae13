/// The pure core of a reflector: the cache of one kind keyed by `namespace/name`, and how a
/// list or a watch event changes it. No I/O, so that relist diffs are tested directly.
public struct ReflectorCache<T: KubeResource>: Sendable {
    public private(set) var items: [String: T] = [:]

    public init() {}

    public static func key(_ meta: ObjectMeta) -> String {
        if let ns = meta.namespace, !ns.isEmpty { return "\(ns)/\(meta.name)" }
        return meta.name
    }

    public var count: Int { items.count }
    public subscript(key: String) -> T? { items[key] }

    /// Replaces the whole cache with a fresh list and returns only what really changed: objects
    /// new to the cache, objects whose resourceVersion differs, and objects no longer listed.
    public mutating func replace(with listed: [T]) -> [ReflectorEvent<T>] {
        var next: [String: T] = [:]
        next.reserveCapacity(listed.count)
        var events: [ReflectorEvent<T>] = []
        for obj in listed {
            let k = Self.key(obj.metadata)
            next[k] = obj
            if let old = items[k] {
                if old.metadata.resourceVersion != obj.metadata.resourceVersion { events.append(.updated(old: old, new: obj)) }
            } else {
                events.append(.added(obj))
            }
        }
        for (k, old) in items where next[k] == nil { events.append(.deleted(old)) }
        items = next
        return events
    }

    /// Applies one watch event; nil when it changes nothing (a bookmark, a replayed version,
    /// the deletion of an object the cache never had).
    public mutating func apply(_ event: WatchEvent<T>) -> ReflectorEvent<T>? {
        let obj = event.object
        let k = Self.key(obj.metadata)
        switch event.kind {
        case .bookmark:
            return nil
        case .added, .modified:
            let old = items.updateValue(obj, forKey: k)
            guard let old else { return .added(obj) }
            if old.metadata.resourceVersion == obj.metadata.resourceVersion { return nil }
            return .updated(old: old, new: obj)
        case .deleted:
            // The server's final state of the object, not the cached one.
            guard items.removeValue(forKey: k) != nil else { return nil }
            return .deleted(obj)
        }
    }
}
