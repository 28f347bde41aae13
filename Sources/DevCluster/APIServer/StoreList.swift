import Core
import Foundation

/// Which objects a list or watch wants.
struct ObjectFilter: Sendable {
    var kind: ResourceKind
    /// nil for every namespace (and for cluster-scoped kinds).
    var namespace: String?
    var labels: LabelSelector = .everything
    var fields: FieldSelector = .everything

    func matches(_ name: ObjectName, _ value: JSONValue) -> Bool {
        if let namespace, kind.namespaced, name.namespace != namespace { return false }
        return labels.matches(value.metaLabels) && fields.matches(value)
    }

    /// How a change looks to a watcher with this filter: objects moving into the selection are
    /// ADDED, out of it DELETED (as the real server's watch cache reports them), nil if unseen.
    func view(of event: StoreEvent) -> EventType? {
        guard event.kind == kind else { return nil }
        let now = matches(event.name, event.object.value)
        let before = event.previous.map { matches(event.name, $0) } ?? false
        switch event.type {
        case .added: return now ? .added : nil
        case .deleted: return before || now ? .deleted : nil
        case .modified:
            switch (before, now) {
            case (true, true): return .modified
            case (false, true): return .added
            case (true, false): return .deleted
            case (false, false): return nil
            }
        }
    }
}

struct ListPage: Sendable {
    var items: [StoredObject]
    var resourceVersion: UInt64
    /// Set when more items follow; pass back as `continue`.
    var continueToken: String?
    var remainingItemCount: Int?
}

extension Store {
    /// One page of matching objects in (namespace, name) order. The continue token records the
    /// last key returned, so a page never repeats or skips objects that stay put.
    func list(_ filter: ObjectFilter, limit: Int? = nil, continueToken: String? = nil) throws(StoreError) -> ListPage {
        var after: ObjectName?
        if let continueToken, !continueToken.isEmpty {
            guard let k = Self.decodeContinue(continueToken) else { throw .badRequest("invalid continue token") }
            after = k
        }
        let all = objects[filter.kind] ?? [:]
        var keys: [ObjectName]
        if let ns = filter.namespace, filter.kind.namespaced {
            keys = all.keys.filter { $0.namespace == ns }
        } else {
            keys = Array(all.keys)
        }
        if let after { keys = keys.filter { after < $0 } }
        keys.sort()
        var items: [StoredObject] = []
        var last: ObjectName?
        var index = 0
        let max = (limit ?? 0) > 0 ? limit! : Int.max
        while index < keys.count, items.count < max {
            let k = keys[index]
            index += 1
            let o = all[k]!
            if filter.matches(k, o.value) {
                items.append(o)
                last = k
            }
        }
        // Only promise more when a later object actually matches.
        var remaining = 0
        for k in keys[index...] where filter.matches(k, all[k]!.value) { remaining += 1 }
        guard remaining > 0, let last else { return ListPage(items: items, resourceVersion: resourceVersion) }
        return ListPage(items: items, resourceVersion: resourceVersion,
                        continueToken: Self.encodeContinue(last), remainingItemCount: remaining)
    }

    static func encodeContinue(_ k: ObjectName) -> String {
        Data(JSONWire.encode(.object(["ns": .string(k.namespace), "name": .string(k.name)]))).base64EncodedString()
    }

    static func decodeContinue(_ token: String) -> ObjectName? {
        guard let data = Data(base64Encoded: token), let v = try? JSONWire.parse(data),
              let ns = v["ns"]?.stringValue, let name = v["name"]?.stringValue else { return nil }
        return ObjectName(namespace: ns, name: name)
    }

    /// Events after `resourceVersion` for a watch that starts there; 410 Gone (reason Expired)
    /// when the history no longer reaches back that far.
    func events(after resourceVersion: UInt64) throws(StoreError) -> [StoreEvent] {
        try history.events(after: resourceVersion)
    }
}

/// A ring buffer of the most recent events. Every event with a resourceVersion greater than
/// `compactedThrough` is retained.
struct EventHistory: Sendable {
    let capacity: Int
    private var ring: [StoreEvent] = []
    private var head = 0
    private(set) var compactedThrough: UInt64 = 0

    init(capacity: Int) { self.capacity = Swift.max(1, capacity) }

    var count: Int { ring.count }

    mutating func append(_ e: StoreEvent) {
        if ring.count < capacity {
            ring.append(e)
        } else {
            compactedThrough = ring[head].resourceVersion
            ring[head] = e
            head = (head + 1) % capacity
        }
    }

    /// Forgets every event up to and including `resourceVersion`.
    mutating func compact(through resourceVersion: UInt64) {
        let kept = ordered.filter { $0.resourceVersion > resourceVersion }
        ring = kept
        head = 0
        compactedThrough = Swift.max(compactedThrough, resourceVersion)
    }

    private var ordered: [StoreEvent] { Array(ring[head...] + ring[..<head]) }

    func events(after rv: UInt64) throws(StoreError) -> [StoreEvent] {
        guard rv >= compactedThrough else {
            throw .gone("too old resource version: \(rv) (\(compactedThrough + 1))")
        }
        // Binary search in the logically ordered ring for the first event newer than rv.
        let n = ring.count
        func at(_ i: Int) -> StoreEvent { ring[(head + i) % n] }
        var lo = 0, hi = n
        while lo < hi {
            let mid = (lo + hi) / 2
            if at(mid).resourceVersion <= rv { lo = mid + 1 } else { hi = mid }
        }
        return (lo..<n).map(at)
    }
}
