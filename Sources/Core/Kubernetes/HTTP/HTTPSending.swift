import Foundation

/// What `KubeClient` sends through: libcurl straight to the API server (`HTTPTransport`), or
/// the calico-node agent's unix socket (`UnixSocketTransport`), which serves buffered
/// exchanges only.
protocol HTTPSending: Sendable {
    /// The whole answer, whatever its status; only a failure to get one throws.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
    /// The body of a 2xx answer chunk by chunk (watches).
    func stream(_ request: HTTPRequest) -> AsyncThrowingStream<Data, Error>
    /// Connections opened so far (tests and the plugin's timing report count them).
    var connectionsOpened: Int { get }
    /// Exchanges in flight right now.
    var activeTransfers: Int { get }
}

extension HTTPTransport: HTTPSending {}
