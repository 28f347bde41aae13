import Foundation

/// core/v1 Namespace: its labels feed Calico's `kns.<name>` profile.
public struct Namespace: KubeResource, Hashable {
    public static let resource = ResourceKind.namespace

    public var metadata: ObjectMeta
    public var raw: JSONValue?

    enum CodingKeys: String, CodingKey { case metadata }

    public init(metadata: ObjectMeta) { self.metadata = metadata }
}

/// core/v1 ServiceAccount: its labels feed Calico's `ksa.<ns>.<name>` profile.
public struct ServiceAccount: KubeResource, Hashable {
    public static let resource = ResourceKind.serviceAccount

    public var metadata: ObjectMeta
    public var raw: JSONValue?

    enum CodingKeys: String, CodingKey { case metadata }

    public init(metadata: ObjectMeta) { self.metadata = metadata }
}

/// core/v1 Secret (BGP passwords, service-account tokens). Values in `data` are base64, as on
/// the wire; use `decodedValue(_:)` to read one.
public struct Secret: KubeResource, Hashable {
    public static let resource = ResourceKind.secret

    public var metadata: ObjectMeta
    public var type: String?
    public var data: [String: String]?
    public var raw: JSONValue?

    enum CodingKeys: String, CodingKey { case metadata, type, data }

    public init(metadata: ObjectMeta, type: String? = nil, data: [String: String]? = nil) {
        self.metadata = metadata
        self.type = type
        self.data = data
    }

    /// The bytes of `data[key]` as UTF-8, or nil when absent or not valid base64.
    public func decodedValue(_ key: String) -> String? {
        guard let b64 = data?[key], let bytes = Data(base64Encoded: b64) else { return nil }
        return String(data: bytes, encoding: .utf8)
    }
}
