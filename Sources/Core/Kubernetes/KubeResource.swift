import Foundation

/// A typed Kubernetes object. `raw` holds the object exactly as the server sent it, so that a
/// write of the typed value keeps every field the type does not model (newer API fields, other
/// controllers' data). Conforming types list their CodingKeys without `raw`.
public protocol KubeResource: Codable, Sendable {
    static var resource: ResourceKind { get }
    var metadata: ObjectMeta { get set }
    var raw: JSONValue? { get set }
}

extension KubeResource {
    /// Decodes a server object, keeping its raw form.
    public static func decode(from data: Data) throws -> Self {
        try decode(from: JSONValue(data: data))
    }

    /// Decodes from an already-parsed JSON value (an item of a list or a watch event).
    public static func decode(from json: JSONValue) throws -> Self {
        var obj = try JSONValueDecoder().decode(Self.self, from: json)
        obj.raw = json
        return obj
    }

    /// The JSON to send on create or update: the typed fields laid over the raw object, with
    /// apiVersion and kind filled in.
    public func encodedForWrite() throws -> JSONValue {
        let typed = try JSONValue(data: JSONEncoder().encode(self))
        var out = (raw ?? .object([:])).overlaid(with: typed)
        out["apiVersion"] = .string(Self.resource.apiVersion)
        out["kind"] = .string(Self.resource.kind)
        return out
    }
}

/// The metadata every object carries.
public struct ObjectMeta: Codable, Sendable, Hashable {
    public var name: String
    public var namespace: String?
    public var uid: String?
    public var resourceVersion: String?
    public var generation: Int64?
    public var creationTimestamp: String?
    public var deletionTimestamp: String?
    public var labels: [String: String]?
    public var annotations: [String: String]?

    public init(name: String, namespace: String? = nil, labels: [String: String]? = nil, annotations: [String: String]? = nil) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
    }
}
