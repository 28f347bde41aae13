import Foundation

/// HTTP/1.1 as the plugin speaks it to the calico-node agent over the unix socket (pure: no
/// I/O): Content-Length bodies, no chunked encoding (the agent never sends it), the
/// connection kept for the invocation's next request.
enum AgentHTTPFraming {
    struct Response: Sendable, Equatable {
        var status: Int
        /// Header names lower-cased.
        var headers: [String: String]
        var body: Data
    }

    struct Malformed: Error, Equatable, CustomStringConvertible {
        var reason: String
        var description: String { "malformed answer from the calico-node agent: \(reason)" }
    }

    /// Set (to `transport`) on the agent's own 502 when it could not reach the API server, so
    /// that the plugin treats it as a transport failure (CNI error 11), not as an API answer.
    static let agentErrorHeader = "X-Calico-Agent-Error"

    /// The largest answer accepted (an IPAMBlock list of a big cluster fits many times over).
    static let maxResponseBytes = 64 << 20
    /// The largest response head accepted.
    static let maxHeadBytes = 16 << 10

    /// The path and query of an absolute URL (`http://host/api/v1/x?y=1` -> `/api/v1/x?y=1`).
    static func target(ofURL url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url.hasPrefix("/") ? url : "/" + url }
        let rest = url[scheme.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return "/" }
        return String(rest[slash...])
    }

    /// The bytes of one request. Header values must not hold CR or LF (they are dropped).
    static func encodeRequest(method: String, target: String, headers: [(String, String)], body: Data?,
                              keepAlive: Bool = false) -> Data {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: calico-node\r\nConnection: \(keepAlive ? "keep-alive" : "close")\r\n"
        for (name, value) in headers where !(name + value).utf8.contains(where: { $0 == 13 || $0 == 10 }) {
            head += "\(name): \(value)\r\n"
        }
        head += "Content-Length: \(body?.count ?? 0)\r\n\r\n"
        var out = Data(head.utf8)
        if let body { out.append(body) }
        return out
    }

    /// The answer in `bytes` once it is whole: nil while more is needed (and the peer has not
    /// closed: `atEOF` false). Throws when it cannot be an answer of ours.
    static func parseResponse(_ bytes: Data, atEOF: Bool) throws(Malformed) -> Response? {
        guard let headEnd = bytes.firstRange(of: Data("\r\n\r\n".utf8)) else {
            if bytes.count > maxHeadBytes { throw Malformed(reason: "response head longer than \(maxHeadBytes) bytes") }
            if atEOF { throw Malformed(reason: bytes.isEmpty ? "the connection closed without an answer" : "the answer ends inside its head") }
            return nil
        }
        let head = String(decoding: bytes[bytes.startIndex..<headEnd.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]), (100...599).contains(status) else {
            throw Malformed(reason: "bad status line \(statusLine.prefix(80).debugDescription)")
        }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { throw Malformed(reason: "bad header line \(line.prefix(80).debugDescription)") }
            headers[line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        if let te = headers["transfer-encoding"], te.lowercased() != "identity" {
            throw Malformed(reason: "transfer-encoding \(te) is not supported")
        }
        let bodyStart = headEnd.upperBound
        let available = bytes.count - (bodyStart - bytes.startIndex)
        if let text = headers["content-length"] {
            guard let length = Int(text), length >= 0, length <= maxResponseBytes else { throw Malformed(reason: "bad content-length \(text.debugDescription)") }
            guard available >= length else {
                if atEOF { throw Malformed(reason: "the answer ends after \(available) of \(length) body bytes") }
                return nil
            }
            return Response(status: status, headers: headers, body: Data(bytes[bodyStart..<(bodyStart + length)]))
        }
        // No length: the body runs to the end of the connection.
        guard atEOF else {
            if available > maxResponseBytes { throw Malformed(reason: "answer longer than \(maxResponseBytes) bytes") }
            return nil
        }
        return Response(status: status, headers: headers, body: Data(bytes[bodyStart...]))
    }
}
