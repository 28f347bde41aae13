import Core
import Foundation

/// The API server's state as a plain value: objects by kind and name, one global, strictly
/// increasing resourceVersion, and a bounded history of changes for watches. No I/O and no
/// locking; `SharedStore` serialises access and fans events out to watchers.
struct Store: Sendable {
    /// Namespaces that exist from the start (and are recreated on load if missing).
    static let initialNamespaces = ["default", "kube-system"]

    private(set) var resourceVersion: UInt64 = 0
    private(set) var objects: [ResourceKind: [ObjectName: StoredObject]] = [:]
    var history: EventHistory

    init(historyCapacity: Int = 50_000, now: Date = Date()) {
        history = EventHistory(capacity: historyCapacity)
        for ns in Self.initialNamespaces {
            _ = try? create(.namespace, namespace: nil, body: .object(["metadata": .object(["name": .string(ns)])]), now: now)
        }
        history.compact(through: resourceVersion)
    }

    /// A store holding `objects` as loaded from a snapshot; the resourceVersion continues from
    /// `resourceVersion` and the history starts empty (older versions get 410 Gone).
    init(loaded objects: [ResourceKind: [ObjectName: StoredObject]], resourceVersion: UInt64, historyCapacity: Int = 50_000) {
        self.objects = objects
        self.resourceVersion = resourceVersion
        history = EventHistory(capacity: historyCapacity)
        history.compact(through: resourceVersion)
    }

    func get(_ kind: ResourceKind, namespace: String?, name: String) throws(StoreError) -> StoredObject {
        guard let o = objects[kind]?[key(kind, namespace, name)] else { throw .notFound(kind, name) }
        return o
    }

    func count(_ kind: ResourceKind) -> Int { objects[kind]?.count ?? 0 }

    mutating func create(_ kind: ResourceKind, namespace: String?, body: JSONValue, now: Date) throws(StoreError) -> Mutation {
        var obj = try checkedBody(kind, body)
        var meta = obj.metadata
        var name = meta["name"]?.stringValue ?? ""
        if name.isEmpty, let prefix = meta["generateName"]?.stringValue, !prefix.isEmpty {
            repeat { name = prefix + Self.randomSuffix() } while objects[kind]?[key(kind, namespace ?? meta["namespace"]?.stringValue, name)] != nil
        }
        try Self.validateName(kind, name)
        meta["name"] = .string(name)
        let ns = try resolveNamespace(kind, pathNamespace: namespace, bodyNamespace: meta["namespace"]?.stringValue)
        if kind.namespaced {
            meta["namespace"] = .string(ns)
            guard namespaceExists(ns) else { throw .notFound(.namespace, ns) }
        } else {
            meta.removeValue(forKey: "namespace")
        }
        let k = ObjectName(namespace: ns, name: name)
        if objects[kind]?[k] != nil { throw .alreadyExists(kind, name) }
        resourceVersion += 1
        meta["uid"] = .string(UUID().uuidString.lowercased())
        meta["creationTimestamp"] = .string(Timestamp.format(now))
        meta["resourceVersion"] = .string(String(resourceVersion))
        meta["generation"] = .int(1)
        meta.removeValue(forKey: "deletionTimestamp")
        obj.metadata = meta
        if kind == .namespace {
            if obj["spec"] == nil { obj["spec"] = .object(["finalizers": .array([.string("kubernetes")])]) }
            obj["status"] = .object(["phase": .string("Active")])
        }
        let stored = StoredObject(obj, resourceVersion: resourceVersion)
        objects[kind, default: [:]][k] = stored
        return record(StoreEvent(type: .added, kind: kind, name: k, object: stored, previous: nil))
    }

    /// PUT. A non-empty metadata.resourceVersion must match the stored one. With `statusOnly`
    /// (the /status subresource) only `.status` is taken from the body.
    mutating func update(_ kind: ResourceKind, namespace: String?, name: String, body: JSONValue, statusOnly: Bool = false) throws(StoreError) -> Mutation {
        var obj = try checkedBody(kind, body)
        let bodyName = obj.metaName
        guard bodyName.isEmpty || bodyName == name else {
            throw .badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        let k = key(kind, namespace, name)
        guard let old = objects[kind]?[k] else { throw .notFound(kind, name) }
        let rv = obj.metaResourceVersion
        if !rv.isEmpty, rv != String(old.resourceVersion) {
            guard UInt64(rv) != nil else { throw .badRequest("invalid resourceVersion \"\(rv)\"") }
            throw .conflict(kind, name)
        }
        if statusOnly {
            var merged = old.value
            merged["status"] = obj["status"]
            obj = merged
        }
        return commit(kind, k, old: old, new: obj)
    }

    /// PATCH with an RFC 7386 merge patch (strategic merge patches are treated the same way).
    mutating func patch(_ kind: ResourceKind, namespace: String?, name: String, patch: JSONValue, statusOnly: Bool = false) throws(StoreError) -> Mutation {
        guard case .object = patch else { throw .badRequest("a merge patch must be a JSON object") }
        let k = key(kind, namespace, name)
        guard let old = objects[kind]?[k] else { throw .notFound(kind, name) }
        if let rv = patch["metadata"]?["resourceVersion"]?.stringValue, rv != String(old.resourceVersion) {
            throw .conflict(kind, name)
        }
        var new = old.value.mergePatched(with: statusOnly ? .object(["status": patch["status"] ?? .null]) : patch)
        if case .object = new {} else { throw .badRequest("the patch did not produce an object") }
        new = try checkedBody(kind, new)
        return commit(kind, k, old: old, new: new)
    }

    /// PATCH with an RFC 6902 JSON patch (a failed `test` or a missing path is 422, as the
    /// real API server answers).
    mutating func jsonPatch(_ kind: ResourceKind, namespace: String?, name: String, patch: JSONValue, statusOnly: Bool = false) throws(StoreError) -> Mutation {
        let k = key(kind, namespace, name)
        guard let old = objects[kind]?[k] else { throw .notFound(kind, name) }
        var new: JSONValue
        do { new = try JSONPatch.apply(patch, to: old.value) } catch {
            switch error {
            case .malformed: throw .badRequest("\(error)")
            case .notApplicable: throw .invalid(kind, name, "\(error)")
            }
        }
        if statusOnly { new = old.value.mergePatched(with: .object(["status": new["status"] ?? .null])) }
        if let rv = new["metadata"]?["resourceVersion"]?.stringValue, rv != String(old.resourceVersion) {
            throw .conflict(kind, name)
        }
        if case .object = new {} else { throw .badRequest("the patch did not produce an object") }
        new = try checkedBody(kind, new)
        return commit(kind, k, old: old, new: new)
    }

    mutating func delete(_ kind: ResourceKind, namespace: String?, name: String, resourceVersion precondition: String? = nil) throws(StoreError) -> Mutation {
        let k = key(kind, namespace, name)
        guard let old = objects[kind]?[k] else { throw .notFound(kind, name) }
        if let precondition, !precondition.isEmpty, precondition != String(old.resourceVersion) { throw .conflict(kind, name) }
        var events: [StoreEvent] = []
        if kind == .namespace {
            // Deleting a namespace deletes everything in it, as the namespace controller would.
            for nsKind in ResourceKind.all where nsKind.namespaced {
                for victim in (objects[nsKind] ?? [:]).keys.filter({ $0.namespace == name }).sorted() {
                    events += removeObject(nsKind, victim).events
                }
            }
        }
        let last = removeObject(kind, k)
        return Mutation(object: last.object, events: events + last.events)
    }

    // MARK: Internals

    private mutating func removeObject(_ kind: ResourceKind, _ k: ObjectName) -> Mutation {
        guard let old = objects[kind]?.removeValue(forKey: k) else { return Mutation(object: StoredObject(.null, resourceVersion: 0), events: []) }
        resourceVersion += 1
        var final = old.value
        var meta = final.metadata
        meta["resourceVersion"] = .string(String(resourceVersion))
        final.metadata = meta
        let stored = StoredObject(final, resourceVersion: resourceVersion)
        return record(StoreEvent(type: .deleted, kind: kind, name: k, object: stored, previous: old.value))
    }

    /// Stores `new` in place of `old`, keeping identity fields; a change that alters nothing
    /// keeps the old resourceVersion and emits no event, as the real server does.
    private mutating func commit(_ kind: ResourceKind, _ k: ObjectName, old: StoredObject, new: JSONValue) -> Mutation {
        var obj = new
        var meta = obj.metadata
        let oldMeta = old.value.metadata
        for field in ["name", "namespace", "uid", "creationTimestamp", "generation", "resourceVersion"] { meta[field] = oldMeta[field] }
        obj.metadata = meta
        if obj == old.value { return Mutation(object: old, events: []) }
        if Self.specPart(obj) != Self.specPart(old.value) {
            meta["generation"] = .int((oldMeta["generation"]?.intValue ?? 0) + 1)
        }
        resourceVersion += 1
        meta["resourceVersion"] = .string(String(resourceVersion))
        obj.metadata = meta
        let stored = StoredObject(obj, resourceVersion: resourceVersion)
        objects[kind, default: [:]][k] = stored
        return record(StoreEvent(type: .modified, kind: kind, name: k, object: stored, previous: old.value))
    }

    private mutating func record(_ event: StoreEvent) -> Mutation {
        history.append(event)
        return Mutation(object: event.object, events: [event])
    }

    /// Everything but metadata and status: a change here bumps metadata.generation.
    private static func specPart(_ v: JSONValue) -> JSONValue {
        var o = v.objectValue ?? [:]
        o.removeValue(forKey: "metadata")
        o.removeValue(forKey: "status")
        return .object(o)
    }

    private func key(_ kind: ResourceKind, _ namespace: String?, _ name: String) -> ObjectName {
        ObjectName(namespace: kind.namespaced ? (namespace ?? "") : "", name: name)
    }

    func namespaceExists(_ ns: String) -> Bool {
        Self.initialNamespaces.contains(ns) || objects[.namespace]?[ObjectName(namespace: "", name: ns)] != nil
    }

    private func resolveNamespace(_ kind: ResourceKind, pathNamespace: String?, bodyNamespace: String?) throws(StoreError) -> String {
        guard kind.namespaced else { return "" }
        if let p = pathNamespace, let b = bodyNamespace, !b.isEmpty, p != b {
            throw .badRequest("the namespace of the provided object (\(b)) does not match the namespace sent on the request (\(p))")
        }
        let ns = pathNamespace ?? bodyNamespace ?? "default"
        return ns.isEmpty ? "default" : ns
    }

    /// The body must be an object of this kind; apiVersion and kind are filled in when absent.
    private func checkedBody(_ kind: ResourceKind, _ body: JSONValue) throws(StoreError) -> JSONValue {
        guard case .object = body else { throw .badRequest("the request body must be a JSON object") }
        var obj = body
        if let k = obj["kind"]?.stringValue, !k.isEmpty, k != kind.kind {
            throw .badRequest("the kind \"\(k)\" in the body does not match the URL's kind \"\(kind.kind)\"")
        }
        if let v = obj["apiVersion"]?.stringValue, !v.isEmpty, v != kind.apiVersion {
            throw .badRequest("the apiVersion \"\(v)\" in the body does not match the URL's \"\(kind.apiVersion)\"")
        }
        if let m = obj["metadata"], m.objectValue == nil, m != .null { throw .badRequest("metadata must be an object") }
        if let labels = obj["metadata"]?["labels"], labels != .null {
            guard let l = labels.objectValue, l.values.allSatisfy({ $0.stringValue != nil }) else {
                throw .invalid(kind, obj.metaName, "metadata.labels: labels must map strings to strings")
            }
        }
        obj["kind"] = .string(kind.kind)
        obj["apiVersion"] = .string(kind.apiVersion)
        return obj
    }

    static func validateName(_ kind: ResourceKind, _ name: String) throws(StoreError) {
        guard !name.isEmpty else { throw .invalid(kind, name, "metadata.name: Required value: name or generateName is required") }
        let ok = name.count <= 253 && name.allSatisfy { ($0.isLetter && $0.isLowercase) || $0.isNumber || $0 == "-" || $0 == "." || $0 == ":" || $0 == "_" }
        guard ok, name != ".", name != ".." else {
            throw .invalid(kind, name, "metadata.name: Invalid value: \"\(name)\": must consist of lower case alphanumeric characters, '-' or '.'")
        }
    }

    static func randomSuffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet.randomElement()! })
    }
}
