#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// The CNI plugin's way to the API through the calico-node agent: HTTP/1.1 over the agent's
/// unix socket with blocking calls, each exchange on a thread of its own (the plugin's few
/// parallel requests must not hold the cooperative pool). One connection serves the whole
/// invocation, its requests queued for it (keep-alive): an exchange takes well under a
/// millisecond, while each connection the agent accepts costs it more than that. The agent
/// answers with the API server's status and body unchanged; its own failure to reach the API
/// comes back as a transport error, exactly like a direct one.
final class UnixSocketTransport: HTTPSending, @unchecked Sendable {
    /// The server part of the URLs KubeClient builds; only the path and query are sent.
    static let placeholderServer = "http://calico-node-agent"

    let path: String
    let connectTimeout: Double
    private let state = Mutex<(opened: Int, active: Int)>((0, 0))
    /// The one connection: `kept` while idle, taken (nil, `busy`) during an exchange.
    private let slot = NSCondition()
    nonisolated(unsafe) private var kept: Int32?
    nonisolated(unsafe) private var busy = false

    init(path: String, connectTimeout: Double = 1) {
        self.path = path
        self.connectTimeout = connectTimeout
    }

    deinit {
        if let kept { close(kept) }
    }

    /// Waits for the connection to be free (a kept descriptor, or nil to open one).
    private func acquire(until deadline: Date) -> (ok: Bool, fd: Int32?) {
        slot.lock()
        defer { slot.unlock() }
        while busy {
            if !slot.wait(until: deadline) { return (false, nil) }
        }
        busy = true
        defer { kept = nil }
        return (true, kept)
    }

    /// Frees the connection, keeping `fd` for the next request when given.
    private func release(keeping fd: Int32?) {
        slot.lock()
        kept = fd
        busy = false
        slot.signal()
        slot.unlock()
    }

    var connectionsOpened: Int { state.withLock { $0.opened } }
    var activeTransfers: Int { state.withLock { $0.active } }

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

    /// A kept connection the agent closed before answering (it restarted): nothing was read,
    /// so the request is sent again on a new one.
    private struct ClosedBeforeAnswer: Error {}

    /// One blocking exchange, bounded by the request's timeout (20 s for the plugin).
    func exchange(_ request: HTTPRequest) throws -> HTTPResponse {
        let target = AgentHTTPFraming.target(ofURL: request.url)
        let summary = "\(request.method) \(target) via the calico-node agent socket \(path)"
        let deadline = Date().addingTimeInterval(request.timeout ?? 60)
        var headers = request.headers.sorted { $0.key < $1.key }.filter { !$0.value.isEmpty }.map { ($0.key, $0.value) }
        if !headers.contains(where: { $0.0.lowercased() == "accept" }) { headers.append(("Accept", "application/json")) }
        let bytes = AgentHTTPFraming.encodeRequest(method: request.method, target: target, headers: headers, body: request.body, keepAlive: true)
        state.withLock { $0.active += 1 }
        defer { state.withLock { $0.active -= 1 } }

        let (acquired, reusable) = acquire(until: deadline)
        guard acquired else { throw HTTPTransportError(message: "\(summary): no answer within the request timeout (queued behind another request)") }
        var keep: Int32?
        defer { release(keeping: keep) }
        var response: AgentHTTPFraming.Response?
        if let fd = reusable {
            do { (response, keep) = try roundTrip(fd, bytes, deadline: deadline, summary: summary) } catch is ClosedBeforeAnswer {}
        }
        if response == nil {
            let fd: Int32
            do { fd = try UnixSocketConnection.connect(path, timeout: connectTimeout) } catch {
                throw HTTPTransportError(message: "\(summary): \(error.message)")
            }
            state.withLock { $0.opened += 1 }
            do { (response, keep) = try roundTrip(fd, bytes, deadline: deadline, summary: summary) } catch is ClosedBeforeAnswer {
                throw HTTPTransportError(message: "\(summary): the agent closed the connection without an answer")
            }
        }
        guard let response else { throw HTTPTransportError(message: "\(summary): no answer") }
        if response.status == 502, response.headers[AgentHTTPFraming.agentErrorHeader.lowercased()] == "transport" {
            let text = String(decoding: response.body.prefix(1024), as: UTF8.self)
            throw HTTPTransportError(message: "\(summary): the agent cannot reach the Kubernetes API: \(AgentAPIStatus.message(text))")
        }
        return HTTPResponse(status: response.status, body: response.body)
    }

    /// Sends `bytes` on `fd` and reads the answer; returns `fd` to keep for the next request
    /// when the agent keeps it open, else closes it.
    private func roundTrip(_ fd: Int32, _ bytes: Data, deadline: Date, summary: String) throws -> (AgentHTTPFraming.Response, Int32?) {
        var keep = false
        defer { if !keep { close(fd) } }
        UnixSocketConnection.setTimeout(fd, SO_SNDTIMEO, deadline.timeIntervalSinceNow)
        guard UnixSocketConnection.writeAll(fd, bytes) else {
            if errno == EPIPE || errno == ECONNRESET { throw ClosedBeforeAnswer() }
            throw HTTPTransportError(message: "\(summary): cannot send the request: \(String(cString: strerror(errno)))")
        }
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
                if received.isEmpty && errno == ECONNRESET { throw ClosedBeforeAnswer() }
                throw HTTPTransportError(message: "\(summary): cannot read the answer: \(String(cString: strerror(errno)))")
            }
            if n == 0 && received.isEmpty { throw ClosedBeforeAnswer() }
            if n > 0 { received.append(contentsOf: buffer[..<n]) }
            do {
                if let response = try AgentHTTPFraming.parseResponse(received, atEOF: n == 0) {
                    // Reused only when the answer said so and nothing followed it.
                    keep = n > 0 && response.headers["connection"]?.lowercased() == "keep-alive"
                        && response.headers["content-length"].flatMap(Int.init) == response.body.count
                    return (response, keep ? fd : nil)
                }
            } catch {
                throw HTTPTransportError(message: "\(summary): \(error)")
            }
        }
    }
}
