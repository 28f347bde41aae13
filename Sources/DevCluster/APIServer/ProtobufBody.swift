import Core
import Foundation

/// Just enough of the Kubernetes protobuf encoding to accept what kubectl's typed clients send
/// for the simple kinds (`kubectl create namespace|serviceaccount|secret generic`): the
/// `k8s\0` envelope around runtime.Unknown, ObjectMeta's common fields, and Secret data.
/// Anything else gets 415, and the client is told to send JSON.
enum ProtobufBody {
    static let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]

    struct Unsupported: Error {}

    static func decode(_ bytes: [UInt8], kind: ResourceKind) throws(Unsupported) -> JSONValue {
        guard bytes.count > 4, Array(bytes[0..<4]) == magic else { throw Unsupported() }
        var raw: [UInt8]?
        for f in try fields(bytes[4...]) where f.number == 2 { raw = f.bytes }
        guard let raw else { throw Unsupported() }
        var object: [String: JSONValue] = ["apiVersion": .string(kind.apiVersion), "kind": .string(kind.kind)]
        switch kind {
        case .namespace, .serviceAccount:
            for f in try fields(raw[...]) where f.number == 1 { object["metadata"] = try objectMeta(f.bytes) }
        case .secret:
            var data: [String: JSONValue] = [:], stringData: [String: JSONValue] = [:]
            for f in try fields(raw[...]) {
                switch f.number {
                case 1: object["metadata"] = try objectMeta(f.bytes)
                case 2: let (k, v) = try entry(f.bytes); data[k] = .string(Data(v).base64EncodedString())
                case 3: object["type"] = .string(String(decoding: f.bytes, as: UTF8.self))
                case 4: let (k, v) = try entry(f.bytes); stringData[k] = .string(String(decoding: v, as: UTF8.self))
                default: break
                }
            }
            for (k, v) in stringData { data[k] = .string(Data((v.stringValue ?? "").utf8).base64EncodedString()) }
            if !data.isEmpty { object["data"] = .object(data) }
            if (object["type"]?.stringValue ?? "").isEmpty { object["type"] = .string("Opaque") }
        default:
            throw Unsupported()
        }
        return .object(object)
    }

    private static func objectMeta(_ bytes: [UInt8]) throws(Unsupported) -> JSONValue {
        var meta: [String: JSONValue] = [:]
        var labels: [String: JSONValue] = [:], annotations: [String: JSONValue] = [:]
        for f in try fields(bytes[...]) {
            let text = String(decoding: f.bytes, as: UTF8.self)
            switch f.number {
            case 1: meta["name"] = .string(text)
            case 2: meta["generateName"] = .string(text)
            case 3: meta["namespace"] = .string(text)
            case 6: meta["resourceVersion"] = .string(text)
            case 11: let (k, v) = try entry(f.bytes); labels[k] = .string(String(decoding: v, as: UTF8.self))
            case 12: let (k, v) = try entry(f.bytes); annotations[k] = .string(String(decoding: v, as: UTF8.self))
            default: break
            }
        }
        for key in ["name", "generateName", "namespace", "resourceVersion"] where meta[key]?.stringValue == "" { meta[key] = nil }
        if !labels.isEmpty { meta["labels"] = .object(labels) }
        if !annotations.isEmpty { meta["annotations"] = .object(annotations) }
        return .object(meta)
    }

    /// A map entry: key = field 1, value = field 2.
    private static func entry(_ bytes: [UInt8]) throws(Unsupported) -> (String, [UInt8]) {
        var key = "", value: [UInt8] = []
        for f in try fields(bytes[...]) {
            if f.number == 1 { key = String(decoding: f.bytes, as: UTF8.self) }
            if f.number == 2 { value = f.bytes }
        }
        return (key, value)
    }

    struct Field {
        var number: Int
        /// The payload of a length-delimited field; empty for other wire types.
        var bytes: [UInt8]
    }

    static func fields(_ bytes: ArraySlice<UInt8>) throws(Unsupported) -> [Field] {
        var out: [Field] = []
        var i = bytes.startIndex
        func varint() throws(Unsupported) -> UInt64 {
            var result: UInt64 = 0, shift: UInt64 = 0
            while i < bytes.endIndex {
                let b = bytes[i]
                i += 1
                result |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { return result }
                shift += 7
                if shift > 63 { break }
            }
            throw Unsupported()
        }
        while i < bytes.endIndex {
            let tag = try varint()
            let number = Int(tag >> 3)
            switch tag & 7 {
            case 0: _ = try varint(); out.append(Field(number: number, bytes: []))
            case 1: i += 8
            case 5: i += 4
            case 2:
                let n = Int(try varint())
                guard n >= 0, n <= bytes.endIndex - i else { throw Unsupported() }
                out.append(Field(number: number, bytes: Array(bytes[i..<(i + n)])))
                i += n
            default: throw Unsupported()
            }
            guard i <= bytes.endIndex else { throw Unsupported() }
        }
        return out
    }
}
