import Foundation

/// What `KubeClient` sends through: libcurl straight to the API server (`HTTPTransport`), or
/// the calico-node agent's unix socket (`UnixSocketTransport`), which serves buffered
/// exchanges only.
protocol HTTPSending: Sendable {
    /// The whole answer, whatever its status; only a failure to get one throws.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
    /// The same answer to `done` (called once, on any thread), for callers that are not tasks.
    func send(_ request: HTTPRequest, done: @escaping @Sendable (Result<HTTPResponse, Error>) -> Void)
    /// The body of a 2xx answer chunk by chunk (watches).
    func stream(_ request: HTTPRequest) -> AsyncThrowingStream<Data, Error>
    /// Connections opened so far (tests and the plugin's timing report count them).
    var connectionsOpened: Int { get }
    /// Exchanges in flight right now.
    var activeTransfers: Int { get }
}

extension HTTPSending {
    /// Through a task, for transports without a callback path of their own.
    func send(_ request: HTTPRequest, done: @escaping @Sendable (Result<HTTPResponse, Error>) -> Void) {
        Task { do { done(.success(try await send(request))) } catch { done(.failure(error)) } }
    }
}

extension HTTPTransport: HTTPSending {}
