import Core
import Foundation

/// Server-side printing: the meta.k8s.io/v1 Table that `kubectl get` asks for with
/// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.
enum TableConverter {
    /// What each row's `object` holds (`includeObject` query parameter).
    enum IncludeObject: String, Sendable {
        case none = "None", metadata = "Metadata", object = "Object"
    }

    struct Column {
        var name: String
        var type = "string"
        var format = ""
        var priority = 0
        var cell: (JSONValue, Date) -> JSONValue
    }

    static func columns(_ kind: ResourceKind) -> [Column] {
        let name = Column(name: "Name", format: "name") { v, _ in .string(v.metaName) }
        let age = Column(name: "Age") { v, now in .string(Self.age(of: v, now: now)) }
        switch kind {
        case .pod:
            return [
                name,
                Column(name: "Ready") { v, _ in .string(podReady(v)) },
                Column(name: "Status") { v, _ in .string(podStatus(v)) },
                Column(name: "Node") { v, _ in .string(v["spec"]?["nodeName"]?.stringValue ?? "<none>") },
                age,
                Column(name: "IP", priority: 1) { v, _ in .string(v["status"]?["podIP"]?.stringValue ?? "<none>") },
            ]
        case .node:
            return [
                name,
                Column(name: "Status") { v, _ in .string(nodeStatus(v)) },
                age,
                Column(name: "Pod-CIDR", priority: 1) { v, _ in .string(v["spec"]?["podCIDR"]?.stringValue ?? "<none>") },
            ]
        case .namespace:
            return [name, Column(name: "Status") { v, _ in .string(v["status"]?["phase"]?.stringValue ?? "Active") }, age]
        default:
            return [name, age]
        }
    }

    static func columnDefinitions(_ kind: ResourceKind) -> JSONValue {
        .array(columns(kind).map { c in
            .object(["name": .string(c.name), "type": .string(c.type), "format": .string(c.format),
                     "description": .string(c.name), "priority": .int(Int64(c.priority))])
        })
    }

    static func row(_ kind: ResourceKind, _ object: JSONValue, include: IncludeObject, now: Date) -> JSONValue {
        var row: [String: JSONValue] = ["cells": .array(columns(kind).map { $0.cell(object, now) })]
        switch include {
        case .none: break
        case .object: row["object"] = object
        case .metadata:
            row["object"] = .object(["kind": .string("PartialObjectMetadata"), "apiVersion": .string("meta.k8s.io/v1"),
                                     "metadata": object["metadata"] ?? .object([:])])
        }
        return .object(row)
    }

    /// A Table of `objects`; watch events after the first carry no column definitions.
    static func table(_ kind: ResourceKind, _ objects: [JSONValue], resourceVersion: UInt64, continueToken: String? = nil,
                      remaining: Int? = nil, include: IncludeObject, withColumns: Bool = true, now: Date = Date()) -> JSONValue {
        var meta: [String: JSONValue] = ["resourceVersion": .string(String(resourceVersion))]
        if let continueToken { meta["continue"] = .string(continueToken) }
        if let remaining { meta["remainingItemCount"] = .int(Int64(remaining)) }
        return .object([
            "kind": .string("Table"), "apiVersion": .string("meta.k8s.io/v1"), "metadata": .object(meta),
            "columnDefinitions": withColumns ? columnDefinitions(kind) : .array([]),
            "rows": .array(objects.map { row(kind, $0, include: include, now: now) }),
        ])
    }

    static func age(of v: JSONValue, now: Date) -> String {
        guard let ts = v["metadata"]?["creationTimestamp"]?.stringValue, let created = Timestamp.parse(ts) else { return "<unknown>" }
        return humanDuration(now.timeIntervalSince(created))
    }

    /// kubectl's short duration format (5s, 3m20s, 12m, 5h3m, 3d).
    static func humanDuration(_ interval: TimeInterval) -> String {
        let s = max(0, Int(interval))
        if s < 120 { return "\(s)s" }
        let m = s / 60
        if m < 10 { return s % 60 == 0 ? "\(m)m" : "\(m)m\(s % 60)s" }
        if m < 180 { return "\(m)m" }
        let h = m / 60
        if h < 8 { return m % 60 == 0 ? "\(h)h" : "\(h)h\(m % 60)m" }
        if h < 48 { return "\(h)h" }
        if h < 192 { return h % 24 == 0 ? "\(h / 24)d" : "\(h / 24)d\(h % 24)h" }
        return "\(h / 24)d"
    }

    static func podStatus(_ v: JSONValue) -> String {
        if v["metadata"]?["deletionTimestamp"] != nil { return "Terminating" }
        return v["status"]?["reason"]?.stringValue ?? v["status"]?["phase"]?.stringValue ?? "Pending"
    }

    static func podReady(_ v: JSONValue) -> String {
        let total = v["spec"]?["containers"]?.arrayValue?.count ?? 0
        let ready = v["status"]?["containerStatuses"]?.arrayValue?.filter { $0["ready"]?.boolValue == true }.count ?? 0
        return "\(ready)/\(total)"
    }

    static func nodeStatus(_ v: JSONValue) -> String {
        let conditions = v["status"]?["conditions"]?.arrayValue ?? []
        guard let ready = conditions.first(where: { $0["type"]?.stringValue == "Ready" }) else { return "Unknown" }
        return ready["status"]?.stringValue == "True" ? "Ready" : "NotReady"
    }
}
