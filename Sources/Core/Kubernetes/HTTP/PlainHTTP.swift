import Foundation

/// A one-off GET without credentials, for calico-node's own loopback endpoints (health, BGP
/// peers). It goes through the same lazily loaded libcurl as the API client, so that no part
/// of the executable links FoundationNetworking (which would map libcurl and its dependencies
/// into every process, the CNI plugin's included).
public enum PlainHTTP {
    public struct Response: Sendable, Equatable {
        public var status: Int
        public var body: Data
    }

    /// Fails with a transport error when there is no HTTP answer; any status is returned.
    public static func get(_ url: String, timeout: Double = 5) async throws -> Response {
        let transport = try HTTPTransport(config: HTTPClientConfig(plainWithConnectTimeout: timeout))
        let r = try await transport.send(HTTPRequest(method: "GET", url: url, timeout: timeout))
        return Response(status: r.status, body: r.body)
    }
}
