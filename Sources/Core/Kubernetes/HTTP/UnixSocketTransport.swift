#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// The CNI plugin's way to the API through the calico-node agent: each request is one HTTP/1.1
/// exchange on a fresh connection to the agent's unix socket, done with blocking calls on a
/// thread of its own (the plugin's few parallel requests must not hold the cooperative pool).
/// The agent answers with the API server's status and body unchanged; its own failure to
/// reach the API comes back as a transport error, exactly like a direct one.
final class UnixSocketTransport: HTTPSending {
    /// The server part of the URLs KubeClient builds; only the path and query are sent.
    static let placeholderServer = "http://calico-node-agent"

    let path: String
    let connectTimeout: Double
    private let counters = Mutex<(opened: Int, active: Int)>((0, 0))

    init(path: String, connectTimeout: Double = 1) {
        self.path = path
        self.connectTimeout = connectTimeout
    }

    var connectionsOpened: Int { counters.withLock { $0.opened } }
    var activeTransfers: Int { counters.withLock { $0.active } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { [self] in
                continuation.resume(with: Result { try exchange(request) })
            }
        }
    }

    func stream(_ request: HTTPRequest) -> AsyncThrowingStream<Data, Error> {
        AsyncThrowingStream { $0.finish(throwing: HTTPTransportError(message: "\(request.method) \(AgentHTTPFraming.target(ofURL: request.url)): watches are not served over the calico-node agent socket \(path)")) }
    }

    /// One blocking exchange, bounded by the request's timeout (20 s for the plugin).
    func exchange(_ request: HTTPRequest) throws -> HTTPResponse {
        let target = AgentHTTPFraming.target(ofURL: request.url)
        let summary = "\(request.method) \(target) via the calico-node agent socket \(path)"
        let deadline = Date().addingTimeInterval(request.timeout ?? 60)
        let fd: Int32
        do { fd = try UnixSocketConnection.connect(path, timeout: connectTimeout) } catch {
            throw HTTPTransportError(message: "\(summary): \(error.message)")
        }
        counters.withLock { $0.opened += 1; $0.active += 1 }
        defer {
            close(fd)
            counters.withLock { $0.active -= 1 }
        }
        var headers = request.headers.sorted { $0.key < $1.key }.filter { !$0.value.isEmpty }.map { ($0.key, $0.value) }
        if !headers.contains(where: { $0.0.lowercased() == "accept" }) { headers.append(("Accept", "application/json")) }
        UnixSocketConnection.setTimeout(fd, SO_SNDTIMEO, deadline.timeIntervalSinceNow)
        let bytes = AgentHTTPFraming.encodeRequest(method: request.method, target: target, headers: headers, body: request.body)
        guard UnixSocketConnection.writeAll(fd, bytes) else {
            throw HTTPTransportError(message: "\(summary): cannot send the request: \(String(cString: strerror(errno)))")
        }
        let response = try readResponse(fd, deadline: deadline, summary: summary)
        if response.status == 502, response.headers[AgentHTTPFraming.agentErrorHeader.lowercased()] == "transport" {
            let text = String(decoding: response.body.prefix(1024), as: UTF8.self)
            throw HTTPTransportError(message: "\(summary): the agent cannot reach the Kubernetes API: \(AgentAPIStatus.message(text))")
        }
        return HTTPResponse(status: response.status, body: response.body)
    }

    private func readResponse(_ fd: Int32, deadline: Date, summary: String) throws -> AgentHTTPFraming.Response {
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw HTTPTransportError(message: "\(summary): no answer within the request timeout") }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, Int32(min(remaining * 1000, Double(Int32.max)).rounded(.up)))
            if ready < 0 {
                if errno == EINTR { continue }
                throw HTTPTransportError(message: "\(summary): poll: \(String(cString: strerror(errno)))")
            }
            if ready == 0 { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw HTTPTransportError(message: "\(summary): cannot read the answer: \(String(cString: strerror(errno)))")
            }
            if n > 0 { received.append(contentsOf: buffer[..<n]) }
            do {
                if let response = try AgentHTTPFraming.parseResponse(received, atEOF: n == 0) { return response }
            } catch {
                throw HTTPTransportError(message: "\(summary): \(error)")
            }
        }
    }
}
