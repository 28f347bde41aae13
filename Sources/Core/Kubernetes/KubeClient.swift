import Foundation

/// Tunables of `KubeClient`; the defaults suit calico-node.
public struct KubeClientOptions: Sendable {
    /// Seconds allowed for TCP connect plus TLS handshake.
    public var connectTimeout: Double
    /// Seconds allowed for one non-watch request, answer included.
    public var requestTimeout: Double
    /// Requests in flight at most (nil: no limit), and so connections to the server at most;
    /// further requests queue in the client and each goes out, on a kept-alive connection, as
    /// soon as one is answered. Only for clients without watches, which hold their slot: the CNI
    /// plugin sets 1 so that its few parallel requests pay for one TLS handshake, not one each.
    public var maxConnections: Int?

    public init(connectTimeout: Double = 10, requestTimeout: Double = 60, maxConnections: Int? = nil) {
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.maxConnections = maxConnections
    }
}

/// The Kubernetes API over libcurl. Every request and watch of one client shares one libcurl
/// multi handle driven by one thread, and its connections (keep-alive, HTTP/2 when offered).
/// Share one client between all roles of the process. A client made with `viaAgentSocket`
/// sends the same requests to the calico-node agent instead (no libcurl, no TLS).
public final class KubeClient: KubeAPI {
    let connection: ClusterConnection
    let options: KubeClientOptions
    let transport: any HTTPSending

    public init(connection: ClusterConnection, options: KubeClientOptions = KubeClientOptions()) throws {
        guard KubeURL.isValidServer(connection.server) else {
            throw DatastoreConfigError.invalidServerURL(source: "cluster connection", value: connection.server)
        }
        if connection.clientCertPEM != nil, connection.clientKeyPEM == nil {
            throw DatastoreConfigError.certificateWithoutKey(source: "cluster connection")
        }
        if connection.clientKeyPEM != nil, connection.clientCertPEM == nil {
            throw DatastoreConfigError.keyWithoutCertificate(source: "cluster connection")
        }
        self.connection = connection
        self.options = options
        do {
            transport = try HTTPTransport(config: HTTPClientConfig(connection: connection, connectTimeout: options.connectTimeout),
                                          maxInFlight: options.maxConnections)
        } catch {
            throw KubeErrorMapping.error(from: error)
        }
    }

    init(connection: ClusterConnection, options: KubeClientOptions, transport: any HTTPSending) {
        self.connection = connection
        self.options = options
        self.transport = transport
    }

    /// A client whose requests go over the calico-node agent's unix socket at `socketPath`
    /// (see `AgentAPIProxy`), which forwards them on its own authenticated connection. No
    /// watches (they fail with a transport error). Nothing is connected until the first request.
    public static func viaAgentSocket(_ socketPath: String, options: KubeClientOptions = KubeClientOptions()) -> KubeClient {
        KubeClient(connection: ClusterConnection(server: UnixSocketTransport.placeholderServer), options: options,
                   transport: UnixSocketTransport(path: socketPath, connectTimeout: min(options.connectTimeout, 1)))
    }

    /// Connections this client has opened so far: to the API server, or to the agent's socket.
    public var connectionsOpened: Int { transport.connectionsOpened }
    /// Whether requests go through the calico-node agent's socket.
    public var viaAgent: Bool { transport is UnixSocketTransport }

    public func get<T: KubeResource>(_ type: T.Type, name: String, namespace: String?) async throws -> T {
        let path = KubeURL.path(T.resource, namespace: namespace, name: name)
        let body = try await send("GET", path: path)
        return try object(T.self, body, what: name)
    }

    public func listPage<T: KubeResource>(_ type: T.Type, options: ListOptions) async throws -> ResourceList<T> {
        let path = KubeURL.path(T.resource, namespace: options.namespace, name: nil)
        let body = try await send("GET", path: path, query: KubeURL.listQuery(options))
        return try KubeListDecoder.decode(T.self, from: body)
    }

    public func create<T: KubeResource>(_ object: T) async throws -> T {
        let path = KubeURL.path(T.resource, namespace: namespaceOf(object), name: nil)
        let body = try await send("POST", path: path, body: try writeBody(object))
        return try self.object(T.self, body, what: object.metadata.name)
    }

    public func update<T: KubeResource>(_ object: T) async throws -> T {
        let path = KubeURL.path(T.resource, namespace: namespaceOf(object), name: object.metadata.name)
        let body = try await send("PUT", path: path, body: try writeBody(object))
        return try self.object(T.self, body, what: object.metadata.name)
    }

    public func patch<T: KubeResource>(_ type: T.Type, name: String, namespace: String?, mergePatch: JSONValue) async throws -> T {
        let path = KubeURL.path(T.resource, namespace: namespace, name: name)
        let patch: Data
        do { patch = try mergePatch.data() } catch { throw KubeError.decode("cannot encode the merge patch: \(error)") }
        let body = try await send("PATCH", path: path, body: patch, contentType: "application/merge-patch+json")
        return try object(T.self, body, what: name)
    }

    public func getJSON<T: KubeResource>(_ type: T.Type, name: String, namespace: String?) async throws -> JSONValue {
        let body = try await send("GET", path: KubeURL.path(T.resource, namespace: namespace, name: name))
        do { return try JSONWire.parse(body) } catch { throw KubeError.decode("\(T.resource.kind) \(name): \(error)") }
    }

    public func applyMergePatch<T: KubeResource>(_ type: T.Type, name: String, namespace: String?, mergePatch: JSONValue) async throws {
        let path = KubeURL.path(T.resource, namespace: namespace, name: name)
        _ = try await send("PATCH", path: path, body: Data(JSONWire.encodeSorted(mergePatch)), contentType: "application/merge-patch+json")
    }

    public func applyJSONPatch<T: KubeResource>(_ type: T.Type, name: String, namespace: String?, jsonPatch: JSONValue) async throws {
        let path = KubeURL.path(T.resource, namespace: namespace, name: name)
        _ = try await send("PATCH", path: path, body: Data(JSONWire.encodeSorted(jsonPatch)), contentType: "application/json-patch+json")
    }

    public func delete<T: KubeResource>(_ type: T.Type, name: String, namespace: String?) async throws {
        _ = try await send("DELETE", path: KubeURL.path(T.resource, namespace: namespace, name: name))
    }

    /// Any request, for tools (`calico-node ctl`): the status and body as the server sent them,
    /// whatever the status. Only a transport failure throws (`KubeError.transport`).
    /// `path` starts with `/api` or `/apis`; `query` values are percent-encoded here.
    public func raw(method: String, path: String, query: [String: String] = [:], body: Data? = nil,
                    contentType: String? = nil) async throws -> (status: Int, body: Data) {
        let q = query.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
        var headers: [String: String] = [:]
        if body != nil {
            headers["Content-Type"] = contentType
                ?? (method.uppercased() == "PATCH" ? "application/merge-patch+json" : "application/json")
        }
        let request = HTTPRequest(method: method.uppercased(), url: KubeURL.url(server: connection.server, path: path, query: q),
                                  headers: headers, body: body, timeout: options.requestTimeout)
        do {
            let response = try await transport.send(request)
            return (response.status, response.body)
        } catch {
            throw KubeErrorMapping.error(from: error)
        }
    }

    /// The agent's forwarding of one plugin request: `target` is the path with its query exactly
    /// as the plugin sent it (already percent-encoded), so nothing is re-encoded on the way.
    /// The answer whatever its status; only a transport failure throws (`KubeError.transport`).
    public func forward(method: String, target: String, body: Data?, contentType: String?) async throws -> (status: Int, body: Data) {
        let request = forwardRequest(method: method, target: target, body: body, contentType: contentType)
        do {
            let response = try await transport.send(request)
            return (response.status, response.body)
        } catch {
            throw KubeErrorMapping.error(from: error)
        }
    }

    /// `forward` for callers that are not tasks (the agent's event loop): `done` is called once,
    /// on the HTTP client's thread, with the answer or the transport failure (`KubeError.transport`).
    public func forward(method: String, target: String, body: Data?, contentType: String?,
                        done: @escaping @Sendable (Result<(status: Int, body: Data), Error>) -> Void) {
        transport.send(forwardRequest(method: method, target: target, body: body, contentType: contentType)) { result in
            done(result.map { ($0.status, $0.body) }.mapError { KubeErrorMapping.error(from: $0) })
        }
    }

    private func forwardRequest(method: String, target: String, body: Data?, contentType: String?) -> HTTPRequest {
        var base = connection.server
        while base.hasSuffix("/") { base.removeLast() }
        return HTTPRequest(method: method, url: base + target,
                           headers: body == nil ? [:] : ["Content-Type": contentType ?? "application/json"],
                           body: body, timeout: options.requestTimeout)
    }

    // MARK: Plumbing

    /// Sends one request; a 2xx answer's body is returned, anything else throws its KubeError.
    private func send(_ method: String, path: String, query: KubeURL.Query = [], body: Data? = nil,
                      contentType: String = "application/json") async throws -> Data {
        let request = HTTPRequest(method: method, url: KubeURL.url(server: connection.server, path: path, query: query),
                                  headers: body == nil ? [:] : ["Content-Type": contentType],
                                  body: body, timeout: options.requestTimeout)
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch {
            throw KubeErrorMapping.error(from: error)
        }
        guard (200..<300).contains(response.status) else {
            throw KubeErrorMapping.error(code: response.status, body: response.body)
        }
        return response.body
    }

    private func object<T: KubeResource>(_ type: T.Type, _ body: Data, what: String) throws -> T {
        do { return try T.decode(from: body) } catch {
            throw KubeError.decode("\(T.resource.kind) \(what): \(error)")
        }
    }

    private func writeBody<T: KubeResource>(_ object: T) throws -> Data {
        // JSONWire writes the same sorted JSON as `data()` without Codable's per-value cost
        // (a JSONEncoder pass was a tenth of the agent's CPU for the IPAM writes it makes).
        do { return Data(JSONWire.encodeSorted(try object.encodedForWrite())) } catch {
            throw KubeError.decode("cannot encode \(T.resource.kind) \(object.metadata.name): \(error)")
        }
    }

    private func namespaceOf<T: KubeResource>(_ object: T) -> String? {
        T.resource.namespaced ? (object.metadata.namespace ?? "default") : nil
    }
}
