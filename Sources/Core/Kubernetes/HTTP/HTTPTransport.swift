import Foundation

/// The HTTP client the Kubernetes client sends through: buffered exchanges and streamed bodies,
/// all on one `CurlMultiLoop` thread. Dropping the last reference stops that thread; open
/// streams keep the transport alive until they end.
final class HTTPTransport: Sendable {
    let config: HTTPClientConfig
    private let loop: CurlMultiLoop

    /// `maxInFlight`: requests sent at once at most (nil: no limit); the rest wait their turn.
    init(config: HTTPClientConfig, maxInFlight: Int? = nil) throws {
        self.config = config
        loop = try CurlMultiLoop(maxInFlight: maxInFlight)
    }

    deinit { loop.shutdown() }

    /// Exchanges the loop is driving right now.
    var activeTransfers: Int { loop.activeCount }
    /// Connections opened so far (reused keep-alive connections are not counted again).
    var connectionsOpened: Int { loop.connectionsOpened }
    /// Whether an answer came over HTTP/2, which lifts `maxInFlight` (for tests).
    var multiplexes: Bool { loop.multiplexes }

    /// The whole answer, whatever its status. Cancelling the task aborts the exchange.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let transfer = try CurlTransfer.make(request: request, config: config)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfer.attach(.buffered(continuation))
                loop.submit(transfer)
            }
        } onCancel: {
            loop.cancel(transfer)
        }
    }

    /// The whole answer, whatever its status, to `done` (called once, on the loop thread), for
    /// callers that are not tasks. Nothing cancels it but the transport's own timeout.
    func send(_ request: HTTPRequest, done: @escaping @Sendable (Result<HTTPResponse, Error>) -> Void) {
        let transfer: CurlTransfer
        do { transfer = try CurlTransfer.make(request: request, config: config) } catch {
            done(.failure(error))
            return
        }
        transfer.attach(.callback(done))
        loop.submit(transfer)
    }

    /// The body of a 2xx answer chunk by chunk as it arrives; any other status fails the stream
    /// with `HTTPStatusError`. Ending the iteration (or cancelling its task) aborts the exchange.
    func stream(_ request: HTTPRequest) -> AsyncThrowingStream<Data, Error> {
        AsyncThrowingStream { continuation in
            let transfer: CurlTransfer
            do {
                transfer = try CurlTransfer.make(request: request, config: config)
            } catch {
                continuation.finish(throwing: error)
                return
            }
            transfer.attach(.streaming(continuation))
            continuation.onTermination = { [self] reason in
                if case .cancelled = reason { loop.cancel(transfer) }
            }
            loop.submit(transfer)
        }
    }
}
