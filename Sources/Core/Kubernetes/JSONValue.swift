import Foundation

/// Any JSON document. Objects the API sends are kept in this form wherever a typed model would
/// drop what it does not know (unknown fields must survive an update), and the development API
/// server stores every object this way.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}

extension JSONValue: Codable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}

extension JSONValue {
    public init(data: Data) throws {
        self = try JSONWire.parse(data)
    }

    /// Compact JSON with sorted keys, so equal values serialise to equal bytes.
    public func data() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try e.encode(self)
    }

    public subscript(key: String) -> JSONValue? {
        get { if case .object(let o) = self { return o[key] } else { return nil } }
        set {
            guard case .object(var o) = self else { return }
            o[key] = newValue
            self = .object(o)
        }
    }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { return o } else { return nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d == d.rounded(): return Int64(exactly: d)
        default: return nil
        }
    }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }

    /// RFC 7386 JSON merge patch: objects merge key by key, `null` deletes, anything else replaces.
    public func mergePatched(with patch: JSONValue) -> JSONValue {
        guard case .object(let p) = patch else { return patch }
        var base: [String: JSONValue]
        if case .object(let o) = self { base = o } else { base = [:] }
        for (k, v) in p {
            if v == .null { base.removeValue(forKey: k) }
            else { base[k] = (base[k] ?? .null).mergePatched(with: v) }
        }
        return .object(base)
    }

    /// `overlay` laid over `self`: objects merge recursively, arrays of equal length merge
    /// element by element (so `containers[].env` survives a typed write of `containers`), and the
    /// overlay wins everywhere else. Used to write a typed object back without losing the fields
    /// its type does not model.
    public func overlaid(with overlay: JSONValue) -> JSONValue {
        switch (self, overlay) {
        case (.object(var base), .object(let top)):
            for (k, v) in top { base[k] = base[k].map { $0.overlaid(with: v) } ?? v }
            return .object(base)
        case (.array(let base), .array(let top)) where base.count == top.count:
            return .array(zip(base, top).map { $0.overlaid(with: $1) })
        default:
            return overlay
        }
    }
}
