import Core
import Foundation

/// An HTTP request reduced to what the API cares about.
struct APIRequest: Sendable {
    var method: String
    var path: String
    var query: [String: String]
    var accept: String
    var contentType: String
    var body: [UInt8]

    init(method: String, uri: String, accept: String = "", contentType: String = "", body: [UInt8] = []) {
        self.method = method
        self.accept = accept
        self.contentType = contentType
        self.body = body
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = Self.decode(String(parts[0]), plusIsSpace: false)
        var q: [String: String] = [:]
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                q[Self.decode(String(kv[0]), plusIsSpace: true)] = kv.count > 1 ? Self.decode(String(kv[1]), plusIsSpace: true) : ""
            }
        }
        query = q
    }

    static func decode(_ s: String, plusIsSpace: Bool) -> String {
        let t = plusIsSpace ? s.replacingOccurrences(of: "+", with: " ") : s
        return t.removingPercentEncoding ?? t
    }

    /// `true`/`1` query flags.
    func flag(_ name: String) -> Bool {
        guard let v = query[name] else { return false }
        return v == "1" || v.lowercased() == "true"
    }

    /// Whether kubectl asked for server-side printing.
    var wantsTable: Bool { accept.contains("as=Table") }
}

/// What the router answers: a complete body, or a watch to start streaming.
enum APIResponse: Sendable {
    case json(status: Int, JSONValue)
    case bytes(status: Int, contentType: String, [UInt8])
    case watch(WatchRequest)

    static func error(_ e: StoreError) -> APIResponse { .json(status: e.code, APIDocuments.status(e)) }
}

struct WatchRequest: Sendable {
    var filter: ObjectFilter
    var resourceVersion: String?
    var bookmarks: Bool
    var timeoutSeconds: Int?
    var table: TableConverter.IncludeObject?
    var sendInitialEvents = false
}

/// A path below /api/v1 or /apis/GROUP/VERSION resolved to a kind and, maybe, one object.
struct ResourceAddress: Equatable, Sendable {
    var kind: ResourceKind
    var namespace: String?
    var name: String?
    var subresource: String?

    /// Parses `/api/v1/...` and `/apis/G/V/...`; nil if the path names no served kind.
    init?(path: String) {
        var segs = path.split(separator: "/").map(String.init)
        let group: String, version: String
        if segs.first == "api", segs.count >= 3 {
            group = ""; version = segs[1]; segs.removeFirst(2)
        } else if segs.first == "apis", segs.count >= 4 {
            group = segs[1]; version = segs[2]; segs.removeFirst(3)
        } else { return nil }
        let kinds = ResourceKind.all.filter { $0.group == group && $0.version == version }
        func kind(_ plural: String) -> ResourceKind? { kinds.first { $0.plural == plural } }
        // namespaces/NS/PLURAL[/NAME[/SUB]] for namespaced kinds.
        if segs.count >= 3, segs[0] == "namespaces", let k = kind(segs[2]), k.namespaced {
            guard segs.count <= 5 else { return nil }
            self.kind = k
            namespace = segs[1]
            name = segs.count > 3 ? segs[3] : nil
            subresource = segs.count > 4 ? segs[4] : nil
            return
        }
        guard let k = kind(segs[0]), segs.count <= 3 else { return nil }
        self.kind = k
        namespace = nil
        name = segs.count > 1 ? segs[1] : nil
        subresource = segs.count > 2 ? segs[2] : nil
    }
}
