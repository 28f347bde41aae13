import Foundation

/// Decoding of list bodies and watch events (pure: no I/O).
enum KubeListDecoder {
    /// A list body: `items` (each keeping its raw JSON) plus metadata.resourceVersion/continue.
    static func decode<T: KubeResource>(_ type: T.Type, from body: Data) throws -> ResourceList<T> {
        let json: JSONValue
        do { json = try JSONValue(data: body) } catch {
            throw KubeError.decode("\(T.resource.kind) list is not JSON: \(error)")
        }
        guard case .object = json else { throw KubeError.decode("\(T.resource.kind) list is not a JSON object") }
        let rawItems: [JSONValue]
        switch json["items"] {
        case .array(let a)?: rawItems = a
        case .null?, nil: rawItems = []
        default: throw KubeError.decode("\(T.resource.kind) list: items is not an array")
        }
        var items: [T] = []
        items.reserveCapacity(rawItems.count)
        for (i, item) in rawItems.enumerated() {
            do { items.append(try T.decode(from: item)) } catch {
                let name = item["metadata"]?["name"]?.stringValue ?? "#\(i)"
                throw KubeError.decode("\(T.resource.kind) \(name) in list: \(error)")
            }
        }
        let meta = json["metadata"]
        let token = meta?["continue"]?.stringValue
        return ResourceList(items: items, resourceVersion: meta?["resourceVersion"]?.stringValue ?? "",
                            continueToken: token?.isEmpty == false ? token : nil)
    }
}

enum WatchEventDecoder {
    /// One line of a watch stream. Returns nil for a bookmark whose object `T` cannot represent
    /// (a bookmark carries only metadata.resourceVersion, and `T` may require more); ERROR events
    /// throw their KubeError.
    static func decode<T: KubeResource>(_ type: T.Type, line: Data) throws -> WatchEvent<T>? {
        let json: JSONValue
        do { json = try JSONValue(data: line) } catch {
            throw KubeError.decode("\(T.resource.kind) watch event is not JSON: \(error)")
        }
        guard let typeName = json["type"]?.stringValue, let object = json["object"] else {
            throw KubeError.decode("\(T.resource.kind) watch event without type or object")
        }
        if typeName == "ERROR" {
            let status = (try? JSONDecoder().decode(APIStatus.self, from: object.data()))
                ?? APIStatus(message: "watch ERROR event without a Status", reason: nil, code: nil)
            throw KubeErrorMapping.watchError(status)
        }
        guard let kind = WatchEvent<T>.Kind(rawValue: typeName) else {
            throw KubeError.decode("\(T.resource.kind) watch event of unknown type \(typeName)")
        }
        if kind == .bookmark {
            // Bookmarks carry no name; give ObjectMeta one so that minimal types decode.
            var filled = object
            if filled["metadata"]?["name"] == nil { filled["metadata"]?["name"] = .string("") }
            guard let decoded = try? T.decode(from: filled) else { return nil }
            return WatchEvent(kind: kind, object: decoded)
        }
        do { return WatchEvent(kind: kind, object: try T.decode(from: object)) } catch {
            let name = object["metadata"]?["name"]?.stringValue ?? "?"
            throw KubeError.decode("\(T.resource.kind) \(name) in \(typeName) event: \(error)")
        }
    }
}
