import Foundation

/// The agent's own answers, as Kubernetes Status objects so that the plugin's error mapping
/// reads their message like an API server's.
enum AgentAPIStatus {
    static func body(code: Int, reason: String, message: String) -> Data {
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
    }

    /// Sends `target` on to the API server: the server's status and body as they came.
    public typealias Forward = @Sendable (_ method: String, _ target: String, _ body: Data?, _ contentType: String?) async throws -> (status: Int, body: Data)

    /// Request bodies larger than this are refused (a Pod patch or an IPAMBlock is a few KiB).
    public static let maxRequestBody = 4 << 20
    static let contentTypes: Set<String> = ["application/json", "application/merge-patch+json"]

    public static func answer(method: String, target: String, body: Data?, contentType: String?,
                              forward: Forward) async -> Answer {
        switch AgentAPIAllowList.check(method: method, target: target) {
        case .malformed(let message):
            return Answer(status: 400, body: AgentAPIStatus.body(code: 400, reason: "BadRequest", message: message))
        case .forbid(let message):
            return Answer(status: 403, body: AgentAPIStatus.body(code: 403, reason: "Forbidden", message: message))
        case .allow:
            break
        }
        if let body, body.count > maxRequestBody {
            return Answer(status: 413, body: AgentAPIStatus.body(code: 413, reason: "RequestEntityTooLarge",
                                                                  message: "request body of \(body.count) bytes exceeds \(maxRequestBody)"))
        }
        let type = contentType.map { String($0.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespaces).lowercased() }
        if let body, !body.isEmpty, type.map({ contentTypes.contains($0) }) != true {
            return Answer(status: 415, body: AgentAPIStatus.body(code: 415, reason: "UnsupportedMediaType",
                                                                  message: "content type \(AgentAPIAllowList.abbreviated(contentType ?? "(none)")) is not forwarded; use application/json or application/merge-patch+json"))
        }
        let hasBody = (body?.isEmpty == false)
        do {
            let (status, answer) = try await forward(method.uppercased(), target, hasBody ? body : nil, hasBody ? type : nil)
            return Answer(status: status, body: answer)
        } catch {
            // Only the transport's message (method, URL, libcurl's reason): never a header.
            return Answer(status: 502, body: AgentAPIStatus.body(code: 502, reason: "BadGateway", message: "\(error)"), agentError: "transport")
        }
    }
}
