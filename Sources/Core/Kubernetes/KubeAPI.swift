/// The operations calico-node needs from the Kubernetes API. `KubeClient` implements them over
/// libcurl; tests may substitute an in-memory fake.
public protocol KubeAPI: Sendable {
    func get<T: KubeResource>(_ type: T.Type, name: String, namespace: String?) async throws -> T
    /// One page of a list; pass the previous page's `continueToken` for the next.
    func listPage<T: KubeResource>(_ type: T.Type, options: ListOptions) async throws -> ResourceList<T>
    /// Events from `options.resourceVersion` on. The stream ends when the server closes the watch
    /// (timeoutSeconds) and fails with `KubeError` on an error (`.gone` for 410).
    func watch<T: KubeResource>(_ type: T.Type, options: ListOptions) -> AsyncThrowingStream<WatchEvent<T>, Error>
    func create<T: KubeResource>(_ object: T) async throws -> T
    /// Replaces the object; the server rejects a stale metadata.resourceVersion with `.conflict`.
    func update<T: KubeResource>(_ object: T) async throws -> T
    /// RFC 7386 JSON merge patch.
    func patch<T: KubeResource>(_ type: T.Type, name: String, namespace: String?, mergePatch: JSONValue) async throws -> T
    func delete<T: KubeResource>(_ type: T.Type, name: String, namespace: String?) async throws
    /// The object as the server sent it, not decoded into `T`: for a caller that reads a field
    /// or two on a short-lived path (the CNI plugin, once per pod start), where a typed decode
    /// costs more than the request.
    func getJSON<T: KubeResource>(_ type: T.Type, name: String, namespace: String?) async throws -> JSONValue
    /// A merge patch whose answer the caller does not need, so it is not decoded.
    func applyMergePatch<T: KubeResource>(_ type: T.Type, name: String, namespace: String?, mergePatch: JSONValue) async throws
    /// An RFC 6902 JSON patch (`JSONPatch`), answer not decoded. One that does not apply (a
    /// failed `test`) is `.api(code: 422, ...)`, as the API server answers.
    func applyJSONPatch<T: KubeResource>(_ type: T.Type, name: String, namespace: String?, jsonPatch: JSONValue) async throws
}

extension KubeAPI {
    /// For conformers without a cheaper way: the typed read's raw form.
    public func getJSON<T: KubeResource>(_ type: T.Type, name: String, namespace: String?) async throws -> JSONValue {
        let object = try await get(type, name: name, namespace: namespace)
        return try object.raw ?? object.encodedForWrite()
    }

    public func applyMergePatch<T: KubeResource>(_ type: T.Type, name: String, namespace: String?, mergePatch: JSONValue) async throws {
        _ = try await patch(type, name: name, namespace: namespace, mergePatch: mergePatch)
    }

    /// For conformers without JSON patches: applied to the object read here, then written as
    /// the merge patch of the difference (not atomic; in-memory fakes only).
    public func applyJSONPatch<T: KubeResource>(_ type: T.Type, name: String, namespace: String?, jsonPatch: JSONValue) async throws {
        let current = try await getJSON(type, name: name, namespace: namespace)
        let patched: JSONValue
        do { patched = try JSONPatch.apply(jsonPatch, to: current) } catch {
            throw KubeError.api(code: 422, APIStatus(message: "\(error)", reason: "Invalid", code: 422))
        }
        _ = try await patch(type, name: name, namespace: namespace, mergePatch: JSONPatch.mergeDiff(from: current, to: patched))
    }

    /// Every page of a list, following `continue` tokens; the resourceVersion is the first page's.
    public func list<T: KubeResource>(_ type: T.Type, options: ListOptions = ListOptions()) async throws -> ResourceList<T> {
        var opts = options
        var page = try await listPage(type, options: opts)
        var items = page.items
        let version = page.resourceVersion
        while let token = page.continueToken, !token.isEmpty {
            opts.continueToken = token
            page = try await listPage(type, options: opts)
            items += page.items
        }
        return ResourceList(items: items, resourceVersion: version, continueToken: nil)
    }
}

public struct ListOptions: Sendable, Hashable {
    public var namespace: String?
    public var labelSelector: String?
    public var fieldSelector: String?
    public var limit: Int?
    public var continueToken: String?
    public var resourceVersion: String?
    public var allowWatchBookmarks: Bool
    public var timeoutSeconds: Int?

    public init(namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil,
                limit: Int? = nil, continueToken: String? = nil, resourceVersion: String? = nil,
                allowWatchBookmarks: Bool = false, timeoutSeconds: Int? = nil) {
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.limit = limit
        self.continueToken = continueToken
        self.resourceVersion = resourceVersion
        self.allowWatchBookmarks = allowWatchBookmarks
        self.timeoutSeconds = timeoutSeconds
    }
}

public struct ResourceList<T: KubeResource>: Sendable {
    public var items: [T]
    public var resourceVersion: String
    public var continueToken: String?

    public init(items: [T], resourceVersion: String, continueToken: String?) {
        self.items = items
        self.resourceVersion = resourceVersion
        self.continueToken = continueToken
    }
}

public struct WatchEvent<T: KubeResource>: Sendable {
    public enum Kind: String, Sendable { case added = "ADDED", modified = "MODIFIED", deleted = "DELETED", bookmark = "BOOKMARK" }
    public var kind: Kind
    /// For a bookmark only metadata.resourceVersion is meaningful.
    public var object: T

    public init(kind: Kind, object: T) {
        self.kind = kind
        self.object = object
    }
}

/// The API's `Status` object, as sent with every error response.
public struct APIStatus: Codable, Sendable, Hashable, Error {
    public var status: String?
    public var message: String?
    public var reason: String?
    public var code: Int?

    public init(status: String? = "Failure", message: String?, reason: String?, code: Int?) {
        self.status = status
        self.message = message
        self.reason = reason
        self.code = code
    }
}

public enum KubeError: Error, Sendable, CustomStringConvertible {
    /// 404.
    case notFound(APIStatus)
    /// 409 on create (AlreadyExists) or on update with a stale resourceVersion (Conflict).
    case conflict(APIStatus)
    /// 410: the requested resourceVersion is older than the server keeps; relist.
    case gone(APIStatus)
    /// Any other error status the server answered with.
    case api(code: Int, APIStatus)
    /// No HTTP answer: connection refused, TLS failure, timeout.
    case transport(String)
    /// An answer we could not decode.
    case decode(String)

    public var description: String {
        switch self {
        case .notFound(let s): return "not found: \(s.message ?? "")"
        case .conflict(let s): return "conflict: \(s.message ?? "")"
        case .gone(let s): return "gone: \(s.message ?? "")"
        case .api(let code, let s): return "API error \(code) \(s.reason ?? ""): \(s.message ?? "")"
        case .transport(let m): return "cannot reach the Kubernetes API: \(m)"
        case .decode(let m): return "cannot decode the API's answer: \(m)"
        }
    }
}
