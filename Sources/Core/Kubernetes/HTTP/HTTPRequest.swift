import Foundation

/// One HTTP exchange as the transport sees it: no Kubernetes knowledge, no credentials (the
/// transport adds the bearer token itself so that callers never hold it).
struct HTTPRequest: Sendable {
    var method: String
    /// Absolute URL, query included.
    var url: String
    /// Extra headers; Accept, User-Agent and Authorization are added by the transport.
    var headers: [String: String]
    var body: Data?
    /// Whole-exchange limit in seconds; nil for none (watches rely on TCP keep-alive instead).
    var timeout: Double?

    init(method: String = "GET", url: String, headers: [String: String] = [:], body: Data? = nil, timeout: Double? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

struct HTTPResponse: Sendable, Equatable {
    var status: Int
    var body: Data
}

/// Why an exchange produced no HTTP answer. Messages come from libcurl's error buffer and the
/// request's method and URL, never from headers, so they cannot contain the token.
struct HTTPTransportError: Error, Sendable, Equatable, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// A streamed exchange that the server answered with a non-2xx status: the whole body, which is
/// usually an API Status.
struct HTTPStatusError: Error, Sendable, Equatable {
    var status: Int
    var body: Data
}
