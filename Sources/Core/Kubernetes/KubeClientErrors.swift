import Foundation

/// Turns HTTP answers and transport failures into `KubeError` (pure: no I/O).
enum KubeErrorMapping {
    /// The Status a failed request carried, or one made up from the status code and the start of
    /// a non-Status body (proxies and load balancers answer with HTML or plain text).
    static func status(code: Int, body: Data) -> APIStatus {
        if let decoded = try? JSONDecoder().decode(APIStatus.self, from: body),
           decoded.message != nil || decoded.reason != nil || decoded.code != nil {
            var s = decoded
            if s.code == nil { s.code = code }
            return s
        }
        let text = String(decoding: body.prefix(512), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return APIStatus(message: text.isEmpty ? "HTTP \(code)" : text, reason: nil, code: code)
    }

    static func error(code: Int, body: Data) -> KubeError {
        error(code: code, status: status(code: code, body: body))
    }

    static func error(code: Int, status: APIStatus) -> KubeError {
        switch code {
        case 404: return .notFound(status)
        case 409: return .conflict(status)
        case 410: return .gone(status)
        default: return .api(code: code, status)
        }
    }

    /// An ERROR event inside a watch: 410 (or reason Expired/Gone) means relist.
    static func watchError(_ status: APIStatus) -> KubeError {
        if status.code == 410 || status.reason == "Expired" || status.reason == "Gone" { return .gone(status) }
        return .api(code: status.code ?? 500, status)
    }

    /// Any error out of the transport, as a KubeError; cancellation passes through unchanged.
    static func error(from error: Error) -> Error {
        switch error {
        case is KubeError, is CancellationError: return error
        case let e as HTTPStatusError: return self.error(code: e.status, body: e.body)
        case let e as HTTPTransportError: return KubeError.transport(e.message)
        case let e as LineSplitter.LineTooLong: return KubeError.decode(e.description)
        default: return KubeError.transport(String(describing: error))
        }
    }
}
