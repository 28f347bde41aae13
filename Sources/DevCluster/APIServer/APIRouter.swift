import Core
import Foundation

/// Turns API requests into responses against the shared store. Knows nothing of NIO: the HTTP
/// handler authenticates, calls `handle`, and writes what comes back (or streams a watch).
final class APIRouter: Sendable {
    let store: SharedStore
    let faults: FaultInjector
    let serverAddress: String

    init(store: SharedStore, faults: FaultInjector = FaultInjector(), serverAddress: String) {
        self.store = store
        self.faults = faults
        self.serverAddress = serverAddress
    }

    func handle(_ r: APIRequest) -> APIResponse {
        if r.path.hasPrefix("/devcluster/") { return faults.handle(r, store: store) }
        if ["/healthz", "/readyz", "/livez"].contains(r.path) || r.path.hasPrefix("/healthz/") || r.path.hasPrefix("/readyz/") || r.path.hasPrefix("/livez/") {
            return .bytes(status: 200, contentType: "text/plain; charset=utf-8", Array("ok".utf8))
        }
        if r.path == "/version" || r.path == "/version/" { return .json(status: 200, APIDocuments.version) }
        if r.path == "/openapi/v3" || r.path == "/openapi/v3/" { return .json(status: 200, OpenAPIDocuments.root) }
        if r.path.hasPrefix("/openapi/v3/"), let doc = OpenAPIDocuments.document(String(r.path.dropFirst("/openapi/v3/".count))) {
            return .json(status: 200, doc)
        }
        guard r.path == "/api" || r.path.hasPrefix("/api/") || r.path == "/apis" || r.path.hasPrefix("/apis/") else {
            return .error(.notFoundPath(r.path))
        }
        if let failure = faults.takeFailure() { return failure }
        if r.method == "GET", let doc = discovery(r.path) { return .json(status: 200, doc) }
        guard let address = ResourceAddress(path: r.path) else { return .error(.notFoundPath(r.path)) }
        do {
            return try resource(r, address)
        } catch {
            return .error(error)
        }
    }

    private func discovery(_ path: String) -> JSONValue? {
        let segs = path.split(separator: "/").map(String.init)
        switch segs.count {
        case 1 where segs[0] == "api": return APIDocuments.apiVersions(serverAddress: serverAddress)
        case 1 where segs[0] == "apis": return APIDocuments.apiGroupList
        case 2 where segs[0] == "api": return APIDocuments.resourceList(group: "", version: segs[1])
        case 2 where segs[0] == "apis": return APIDocuments.groups.contains(segs[1]) ? APIDocuments.apiGroup(segs[1]) : nil
        case 3 where segs[0] == "apis": return APIDocuments.resourceList(group: segs[1], version: segs[2])
        default: return nil
        }
    }

    private func resource(_ r: APIRequest, _ a: ResourceAddress) throws(StoreError) -> APIResponse {
        let statusOnly: Bool
        switch a.subresource {
        case nil: statusOnly = false
        case "status"?: statusOnly = true
        case let sub?: throw .notFoundPath("\(r.path) (subresource \(sub) is not served)")
        }
        let k = a.kind
        switch (r.method, a.name) {
        case ("GET", let name?) where r.flag("watch"):
            // The legacy single-object watch: the same as a field selector on the name.
            var f = try filter(r, a)
            f.fields.requirements.append(.init(path: ["metadata", "name"], value: name, negated: false))
            return .watch(WatchRequest(filter: f, resourceVersion: r.query["resourceVersion"], bookmarks: r.flag("allowWatchBookmarks"),
                                       timeoutSeconds: r.query["timeoutSeconds"].flatMap { Int($0) }, table: tableMode(r)))
        case ("GET", let name?):
            let o = try store.read { s throws(StoreError) in try s.get(k, namespace: a.namespace, name: name) }
            if let include = tableMode(r) {
                return .json(status: 200, TableConverter.table(k, [o.value], resourceVersion: o.resourceVersion, include: include))
            }
            return .bytes(status: 200, contentType: "application/json", o.json)
        case ("GET", nil):
            let filter = try filter(r, a)
            if r.flag("watch") {
                return .watch(WatchRequest(filter: filter, resourceVersion: r.query["resourceVersion"],
                                           bookmarks: r.flag("allowWatchBookmarks"), timeoutSeconds: r.query["timeoutSeconds"].flatMap { Int($0) },
                                           table: tableMode(r), sendInitialEvents: r.flag("sendInitialEvents")))
            }
            let limit = r.query["limit"].flatMap { Int($0) }
            let page = try store.read { s throws(StoreError) in try s.list(filter, limit: limit, continueToken: r.query["continue"]) }
            if let include = tableMode(r) {
                return .json(status: 200, TableConverter.table(k, page.items.map(\.value), resourceVersion: page.resourceVersion,
                                                             continueToken: page.continueToken, remaining: page.remainingItemCount, include: include))
            }
            return .bytes(status: 200, contentType: "application/json", Self.encodeList(k, page))
        case ("POST", nil):
            let body = try parseBody(r, kind: k)
            let o = try write(r) { s throws(StoreError) in try s.create(k, namespace: a.namespace, body: body, now: Date()) }
            return .bytes(status: 201, contentType: "application/json", o.json)
        case ("PUT", let name?):
            let body = try parseBody(r, kind: k)
            let o = try write(r) { s throws(StoreError) in try s.update(k, namespace: a.namespace, name: name, body: body, statusOnly: statusOnly) }
            return .bytes(status: 200, contentType: "application/json", o.json)
        case ("PATCH", let name?):
            let type = r.contentType.split(separator: ";").first.map { $0.trimmingSpaces.lowercased() } ?? ""
            if type == "application/json-patch+json" {
                let patch = try parseBody(r)
                let o = try write(r) { s throws(StoreError) in try s.jsonPatch(k, namespace: a.namespace, name: name, patch: patch, statusOnly: statusOnly) }
                return .bytes(status: 200, contentType: "application/json", o.json)
            }
            guard ["application/merge-patch+json", "application/strategic-merge-patch+json", "application/json"].contains(type) else {
                throw .unsupportedMediaType(type)
            }
            let patch = try parseBody(r)
            let o = try write(r) { s throws(StoreError) in try s.patch(k, namespace: a.namespace, name: name, patch: patch, statusOnly: statusOnly) }
            return .bytes(status: 200, contentType: "application/json", o.json)
        case ("DELETE", let name?):
            let options = r.body.isEmpty ? JSONValue.null : ((try? JSONWire.parse(r.body)) ?? .null)
            let precondition = options["preconditions"]?["resourceVersion"]?.stringValue
            let o = try write(r) { s throws(StoreError) in try s.delete(k, namespace: a.namespace, name: name, resourceVersion: precondition) }
            return .bytes(status: 200, contentType: "application/json", o.json)
        case ("DELETE", nil):
            let filter = try filter(r, a)
            var deleted: [StoredObject] = []
            let names = try store.read { s throws(StoreError) in try s.list(filter).items.map(\.value) }
            for v in names {
                if let o = try? store.write({ s throws(StoreError) in try s.delete(k, namespace: v.metaNamespace, name: v.metaName) }) { deleted.append(o) }
            }
            return .bytes(status: 200, contentType: "application/json", Self.encodeList(k, ListPage(items: deleted, resourceVersion: store.resourceVersion)))
        default:
            throw .methodNotAllowed("the server does not allow the method \(r.method) on \(r.path)")
        }
    }

    /// Stores the change, or only computes it when the request says `dryRun=All`.
    private func write(_ r: APIRequest, _ body: (inout Store) throws(StoreError) -> Mutation) throws(StoreError) -> StoredObject {
        if let d = r.query["dryRun"], !d.isEmpty { return try store.dryRun(body) }
        return try store.write(body)
    }

    private func tableMode(_ r: APIRequest) -> TableConverter.IncludeObject? {
        guard r.wantsTable else { return nil }
        return r.query["includeObject"].flatMap { TableConverter.IncludeObject(rawValue: $0) } ?? .metadata
    }

    private func filter(_ r: APIRequest, _ a: ResourceAddress) throws(StoreError) -> ObjectFilter {
        ObjectFilter(kind: a.kind, namespace: a.kind.namespaced ? a.namespace : nil,
                     labels: try LabelSelector(parsing: r.query["labelSelector"] ?? ""),
                     fields: try FieldSelector(parsing: r.query["fieldSelector"] ?? ""))
    }

    private func parseBody(_ r: APIRequest, kind: ResourceKind? = nil) throws(StoreError) -> JSONValue {
        // JSON bodies, plus protobuf for the few simple kinds ProtobufBody knows; kubectl's typed
        // clients (`create namespace`, `run`) send protobuf, and get 415 for other kinds.
        let type = r.contentType.lowercased()
        if type.contains("protobuf"), let kind, let decoded = try? ProtobufBody.decode(r.body, kind: kind) { return decoded }
        if !type.isEmpty, !type.contains("json") { throw .unsupportedMediaType(type) }
        guard !r.body.isEmpty else { throw .badRequest("the request body is empty") }
        do {
            return try JSONWire.parse(r.body)
        } catch {
            throw .badRequest("the request body is not valid JSON: \(error)")
        }
    }

    /// `{"kind":"PodList",...,"items":[...]}` assembled from the stored encodings.
    static func encodeList(_ kind: ResourceKind, _ page: ListPage) -> [UInt8] {
        var meta: [String: JSONValue] = ["resourceVersion": .string(String(page.resourceVersion))]
        if let c = page.continueToken { meta["continue"] = .string(c) }
        if let n = page.remainingItemCount { meta["remainingItemCount"] = .int(Int64(n)) }
        var out: [UInt8] = []
        out.reserveCapacity(page.items.reduce(128) { $0 + $1.json.count + 1 })
        out += Array("{\"kind\":\"\(kind.kind)List\",\"apiVersion\":\"\(kind.apiVersion)\",\"metadata\":".utf8)
        JSONWire.write(.object(meta), to: &out)
        out += Array(",\"items\":[".utf8)
        for (i, item) in page.items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out += item.json
        }
        out += Array("]}".utf8)
        return out
    }
}
