import Core
import Foundation

/// Fault injection for tests. The endpoints need authentication like every other request:
///
///     POST /devcluster/faults/drop-watches                close every open watch stream abruptly
///     POST /devcluster/faults/fail-next?count=N&code=C    the next N API requests (/api, /apis)
///                                                         fail with HTTP C (default 500) and a Status
///     POST /devcluster/faults/compact                     forget the watch history, so a watch
///                                                         from any older resourceVersion gets 410
///
/// Each answers a Success Status saying what it did.
final class FaultInjector: @unchecked Sendable {
    private let lock = NSLock()
    private var failuresLeft = 0
    private var failureCode = 500

    /// The injected failure for this request, if one is pending.
    func takeFailure() -> APIResponse? {
        let code: Int? = lock.withLock {
            guard failuresLeft > 0 else { return nil }
            failuresLeft -= 1
            return failureCode
        }
        guard let code else { return nil }
        return .json(status: code, APIDocuments.status(code: code, reason: Self.reason(code), message: "injected failure (devcluster fail-next)"))
    }

    func handle(_ r: APIRequest, store: SharedStore) -> APIResponse {
        guard r.method == "POST" else { return .error(.methodNotAllowed("fault endpoints take POST")) }
        switch r.path {
        case "/devcluster/faults/drop-watches":
            let n = store.dropWatches()
            return .json(status: 200, APIDocuments.success("dropped \(n) watches"))
        case "/devcluster/faults/fail-next":
            let count = r.query["count"].flatMap { Int($0) } ?? 1
            let code = r.query["code"].flatMap { Int($0) } ?? 500
            guard count >= 0, (400...599).contains(code) else {
                return .error(.badRequest("fail-next needs count >= 0 and code in 400...599"))
            }
            lock.withLock { failuresLeft = count; failureCode = code }
            return .json(status: 200, APIDocuments.success("the next \(count) requests fail with \(code)"))
        case "/devcluster/faults/compact":
            let rv = store.compact()
            return .json(status: 200, APIDocuments.success("watch history compacted through \(rv)"))
        default:
            return .error(.notFoundPath(r.path))
        }
    }

    static func reason(_ code: Int) -> String {
        switch code {
        case 400: "BadRequest"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "NotFound"
        case 409: "Conflict"
        case 410: "Expired"
        case 429: "TooManyRequests"
        case 503: "ServiceUnavailable"
        case 504: "Timeout"
        default: "InternalError"
        }
    }
}
