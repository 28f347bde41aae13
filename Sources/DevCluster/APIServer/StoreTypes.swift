import Core
import Foundation

/// Why the store refused a request; each case maps to one metav1 Status reason and HTTP code.
enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case badRequest(String)
    case notFound(ResourceKind, String)
    case alreadyExists(ResourceKind, String)
    case conflict(ResourceKind, String)
    case invalid(ResourceKind?, String, String)
    case gone(String)
    case methodNotAllowed(String)
    case notFoundPath(String)
    case unsupportedMediaType(String)

    var code: Int {
        switch self {
        case .badRequest: 400
        case .notFound: 404
        case .alreadyExists, .conflict: 409
        case .invalid: 422
        case .gone: 410
        case .methodNotAllowed: 405
        case .notFoundPath: 404
        case .unsupportedMediaType: 415
        }
    }

    var reason: String {
        switch self {
        case .badRequest: "BadRequest"
        case .notFound: "NotFound"
        case .alreadyExists: "AlreadyExists"
        case .conflict: "Conflict"
        case .invalid: "Invalid"
        case .gone: "Expired"
        case .methodNotAllowed: "MethodNotAllowed"
        case .notFoundPath: "NotFound"
        case .unsupportedMediaType: "UnsupportedMediaType"
        }
    }

    var description: String {
        switch self {
        case .badRequest(let m): return m
        case .notFound(let k, let n): return "\(k.groupResource) \"\(n)\" not found"
        case .alreadyExists(let k, let n): return "\(k.groupResource) \"\(n)\" already exists"
        case .conflict(let k, let n):
            return "Operation cannot be fulfilled on \(k.groupResource) \"\(n)\": the object has been modified; please apply your changes to the latest version and try again"
        case .invalid(let k, let n, let m): return "\(k.map { $0.kind } ?? "object") \"\(n)\" is invalid: \(m)"
        case .gone(let m): return m
        case .methodNotAllowed(let m): return m
        case .notFoundPath(let p): return "the server could not find the requested resource: \(p)"
        case .unsupportedMediaType(let t): return "the body of the request was in an unknown format (\(t)); accepted media types: application/json, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json"
        }
    }

    /// `details` of the Status object, which kubectl uses to print `kind "name"`.
    var details: (name: String, kind: ResourceKind)? {
        switch self {
        case .notFound(let k, let n), .alreadyExists(let k, let n), .conflict(let k, let n): return (n, k)
        case .invalid(let k?, let n, _): return (n, k)
        default: return nil
        }
    }
}

extension ResourceKind {
    /// `pods` or `bgppeers.crd.projectcalico.org`, as the real server names kinds in messages.
    var groupResource: String { group.isEmpty ? plural : "\(plural).\(group)" }
}

/// An object's address inside one kind; the namespace is empty for cluster-scoped kinds.
struct ObjectName: Hashable, Comparable, Sendable {
    var namespace: String
    var name: String

    static func < (a: ObjectName, b: ObjectName) -> Bool {
        a.namespace != b.namespace ? a.namespace < b.namespace : a.name < b.name
    }
}

/// An object as stored: its value plus its JSON encoding, made once per change so that lists
/// and every watcher reuse the same bytes.
struct StoredObject: Sendable {
    var value: JSONValue
    var json: [UInt8]
    var resourceVersion: UInt64

    init(_ value: JSONValue, resourceVersion: UInt64) {
        self.value = value
        self.json = JSONWire.encode(value)
        self.resourceVersion = resourceVersion
    }
}

enum EventType: String, Sendable {
    case added = "ADDED", modified = "MODIFIED", deleted = "DELETED"
}

/// One change, as kept in the watch history.
struct StoreEvent: Sendable {
    var type: EventType
    var kind: ResourceKind
    var name: ObjectName
    /// The new state (for DELETED: the last state, stamped with the deletion's resourceVersion).
    var object: StoredObject
    /// The state before the change, for selector transitions (nil for ADDED).
    var previous: JSONValue?
    var resourceVersion: UInt64 { object.resourceVersion }
}

/// The result of a write: the object to answer with, and the events it caused (possibly none,
/// e.g. for an update that changes nothing).
struct Mutation: Sendable {
    var object: StoredObject
    var events: [StoreEvent]
}

extension JSONValue {
    var metadata: [String: JSONValue] {
        get { self["metadata"]?.objectValue ?? [:] }
        set { self["metadata"] = .object(newValue) }
    }
    var metaName: String { self["metadata"]?["name"]?.stringValue ?? "" }
    var metaNamespace: String { self["metadata"]?["namespace"]?.stringValue ?? "" }
    var metaResourceVersion: String { self["metadata"]?["resourceVersion"]?.stringValue ?? "" }
    var metaLabels: [String: JSONValue]? { self["metadata"]?["labels"]?.objectValue }
}

/// RFC 3339 timestamps at second precision, as metav1.Time is written.
enum Timestamp {
    static func format(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    static func parse(_ text: String) -> Date? {
        let digits = text.split(whereSeparator: { !$0.isNumber }).compactMap { Int32($0) }
        guard digits.count >= 6, text.hasSuffix("Z") else { return nil }
        var parts = tm()
        parts.tm_year = digits[0] - 1900
        parts.tm_mon = digits[1] - 1
        parts.tm_mday = digits[2]
        parts.tm_hour = digits[3]
        parts.tm_min = digits[4]
        parts.tm_sec = digits[5]
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }
}
