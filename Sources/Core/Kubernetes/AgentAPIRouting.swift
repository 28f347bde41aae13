import Foundation

/// The agent's own answers, as Kubernetes Status objects so that the plugin's error mapping
/// reads their message like an API server's.
public enum AgentAPIStatus {
    public static func body(code: Int, reason: String, message: String) -> Data {
        let status: JSONValue = .object([
            "kind": .string("Status"), "apiVersion": .string("v1"), "status": .string("Failure"),
            "message": .string(message), "reason": .string(reason), "code": .int(Int64(code)),
        ])
        return Data(JSONWire.encodeSorted(status))
    }

    /// The message of a Status body, else the text itself.
    static func message(_ text: String) -> String {
        if let data = text.data(using: .utf8), let status = try? JSONDecoder().decode(APIStatus.self, from: data),
           let message = status.message { return message }
        return text
    }
}

/// One request of a CNI plugin to the agent and its answer (pure apart from `forward`).
public enum AgentAPIRouting {
    public struct Answer: Sendable, Equatable {
        public var status: Int
        public var body: Data
        /// `transport` when the agent could not reach the API server (its own 502).
        public var agentError: String?

        public init(status: Int, body: Data, agentError: String? = nil) {
            self.status = status
            self.body = body
            self.agentError = agentError
        }
    }

    /// The agent's own endpoints, served rather than forwarded: versioned paths under
    /// `localPrefix` (e.g. `/calico-agent/v1/ipam/assign`), each a POST of JSON. The handler
    /// gets the path and the body and answers 404 for an endpoint it does not know.
    public typealias Local = @Sendable (_ path: String, _ body: Data) async -> Answer
    public static let localPrefix = "/calico-agent/"

    /// Sends `target` on to the API server: the server's status and body as they came.
    public typealias Forward = @Sendable (_ method: String, _ target: String, _ body: Data?, _ contentType: String?) async throws -> (status: Int, body: Data)

    /// Request bodies larger than this are refused (a Pod patch or an IPAMBlock is a few KiB).
    public static let maxRequestBody = 4 << 20
    static let contentTypes: Set<String> = ["application/json", "application/merge-patch+json", "application/json-patch+json"]

    /// `Forward` without a task, for the agent's event loop: starts the request and calls `done`
    /// exactly once, on any thread, with the server's answer or the transport's failure (the
    /// request then goes from the loop straight to the HTTP client's thread and back, with no
    /// hop through the concurrency pool).
    public typealias ForwardNow = @Sendable (_ method: String, _ target: String, _ body: Data?, _ contentType: String?,
                                             _ done: @escaping @Sendable (Result<(status: Int, body: Data), Error>) -> Void) -> Void

    /// An answer the agent has at hand for an allowed request (its own Node from a watched
    /// cache), else nil: the request is forwarded.
    public typealias Cached = @Sendable (_ method: String, _ target: String) -> Answer?

    /// What to do with one request, decided without I/O.
    public enum Route: Sendable, Equatable {
        /// Answer at once (refused, malformed, too large).
        case answer(Answer)
        /// An agent endpoint: `local(path, body)`.
        case local(path: String, body: Data)
        /// Send on to the API server as it came (body and type nil when there is no body).
        case forward(method: String, target: String, body: Data?, contentType: String?)
    }

    public static func answer(method: String, target: String, body: Data?, contentType: String?,
                              local: Local? = nil, forward: Forward) async -> Answer {
        switch route(method: method, target: target, body: body, contentType: contentType, hasLocal: local != nil) {
        case .answer(let answer):
            return answer
        case .local(let path, let bytes):
            return await local!(path, bytes)
        case .forward(let method, let target, let body, let type):
            do { return forwarded(.success(try await forward(method, target, body, type))) } catch { return forwarded(.failure(error)) }
        }
    }

    /// The answer to a forwarded request: the server's as it came, or the agent's 502 when the
    /// transport failed (only its message: method, URL, libcurl's reason; never a header).
    public static func forwarded(_ result: Result<(status: Int, body: Data), Error>) -> Answer {
        switch result {
        case .success(let (status, body)):
            return Answer(status: status, body: body)
        case .failure(let error):
            return Answer(status: 502, body: AgentAPIStatus.body(code: 502, reason: "BadGateway", message: "\(error)"), agentError: "transport")
        }
    }

    /// The route of one request; `hasLocal`: whether this agent serves its own endpoints.
    public static func route(method: String, target: String, body: Data?, contentType: String?, hasLocal: Bool) -> Route {
        if target.hasPrefix(localPrefix) {
            return routeLocal(method: method, target: target, body: body, contentType: contentType, hasLocal: hasLocal)
        }
        switch AgentAPIAllowList.check(method: method, target: target) {
        case .malformed(let message):
            return .answer(Answer(status: 400, body: AgentAPIStatus.body(code: 400, reason: "BadRequest", message: message)))
        case .forbid(let message):
            return .answer(Answer(status: 403, body: AgentAPIStatus.body(code: 403, reason: "Forbidden", message: message)))
        case .allow:
            break
        }
        if let body, body.count > maxRequestBody {
            return .answer(Answer(status: 413, body: AgentAPIStatus.body(code: 413, reason: "RequestEntityTooLarge",
                                                                          message: "request body of \(body.count) bytes exceeds \(maxRequestBody)")))
        }
        let type = mediaType(contentType)
        if let body, !body.isEmpty, type.map({ contentTypes.contains($0) }) != true {
            return .answer(Answer(status: 415, body: AgentAPIStatus.body(code: 415, reason: "UnsupportedMediaType",
                                                                          message: "content type \(AgentAPIAllowList.abbreviated(contentType ?? "(none)")) is not forwarded; use application/json, application/merge-patch+json or application/json-patch+json")))
        }
        let hasBody = (body?.isEmpty == false)
        return .forward(method: method.uppercased(), target: target, body: hasBody ? body : nil, contentType: hasBody ? type : nil)
    }

    /// `application/json` of `application/json; charset=utf-8`.
    static func mediaType(_ contentType: String?) -> String? {
        contentType.map { String($0.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespaces).lowercased() }
    }

    /// An agent endpoint: 404 when this agent serves none (a plugin then falls back to the
    /// forwarded requests), else POST of a JSON body to the agent's handler.
    static func routeLocal(method: String, target: String, body: Data?, contentType: String?, hasLocal: Bool) -> Route {
        let path = String(target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0])
        guard hasLocal else {
            return .answer(Answer(status: 404, body: AgentAPIStatus.body(code: 404, reason: "NotFound",
                                                                          message: "this calico-node agent serves no endpoint \(AgentAPIAllowList.abbreviated(path))")))
        }
        guard path == target else {
            return .answer(Answer(status: 400, body: AgentAPIStatus.body(code: 400, reason: "BadRequest",
                                                                          message: "agent endpoint \(AgentAPIAllowList.abbreviated(path)) takes no query")))
        }
        guard method.uppercased() == "POST" else {
            return .answer(Answer(status: 405, body: AgentAPIStatus.body(code: 405, reason: "MethodNotAllowed",
                                                                          message: "agent endpoint \(AgentAPIAllowList.abbreviated(path)) takes only POST")))
        }
        let bytes = body ?? Data()
        if bytes.count > maxRequestBody {
            return .answer(Answer(status: 413, body: AgentAPIStatus.body(code: 413, reason: "RequestEntityTooLarge",
                                                                          message: "request body of \(bytes.count) bytes exceeds \(maxRequestBody)")))
        }
        guard mediaType(contentType) == "application/json" else {
            return .answer(Answer(status: 415, body: AgentAPIStatus.body(code: 415, reason: "UnsupportedMediaType",
                                                                          message: "agent endpoint \(AgentAPIAllowList.abbreviated(path)) takes application/json")))
        }
        return .local(path: path, body: bytes)
    }
}
