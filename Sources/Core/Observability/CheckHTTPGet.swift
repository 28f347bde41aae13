#if canImport(Glibc)
import Glibc
#endif
import Foundation
import CCalicoSystem

/// A plain HTTP/1.1 GET to the local health server, for the probe and `ctl node status`. A probe
/// runs once per kubelet period, so a blocking socket with a deadline is all it needs.
public enum CheckHTTPGet {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// GETs `path` from `address`; returns the status and body. Throws when there is no answer
    /// within `timeout` seconds or the answer is not HTTP.
    public static func get(_ address: ObservabilityAddress, path: String, timeout: Double = 5) throws(Failure) -> (status: Int, body: [UInt8]) {
        let target = "http://\(address)\(path)"
        var hints = addrinfo()
        hints.ai_socktype = cs_sock_stream
        hints.ai_flags = AI_NUMERICSERV
        var info: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(address.host, String(address.port), &hints, &info) == 0, let ai = info else {
            throw Failure(description: "cannot resolve \(address.host) for \(target)")
        }
        defer { freeaddrinfo(info) }
        let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
        guard fd >= 0 else { throw Failure(description: "cannot open a socket for \(target): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 else {
            throw Failure(description: "cannot reach the health endpoint \(target): \(String(cString: strerror(errno))); is calico-node running with its health server on \(address)?")
        }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(address)\r\nUser-Agent: calico-node-check\r\nConnection: close\r\n\r\n".utf8)
        let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == request.count else { throw Failure(description: "cannot send the request to \(target)") }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            guard n > 0 else { throw Failure(description: "no complete answer from \(target) within \(timeout)s") }
            response += buffer[0..<n]
            if response.count > 4 << 20 { throw Failure(description: "the answer from \(target) is larger than 4 MiB") }
        }
        return try parse(response, target: target)
    }

    /// Splits an HTTP/1.x answer into status and body (Content-Length, chunked, or to the end).
    static func parse(_ response: [UInt8], target: String) throws(Failure) -> (status: Int, body: [UInt8]) {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = response.firstRange(of: separator) else { throw Failure(description: "\(target) did not answer with HTTP") }
        let head = String(decoding: response[..<end.lowerBound], as: UTF8.self).split(separator: "\r\n")
        let statusLine = head.first?.split(separator: " ") ?? []
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]) else {
            throw Failure(description: "\(target) did not answer with HTTP")
        }
        let headers = head.dropFirst().map { $0.lowercased() }
        var body = Array(response[end.upperBound...])
        if headers.contains(where: { $0.hasPrefix("transfer-encoding:") && $0.contains("chunked") }) {
            body = dechunk(body)
        } else if let length = headers.first(where: { $0.hasPrefix("content-length:") })
            .flatMap({ Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) }), length <= body.count {
            body = Array(body.prefix(length))
        }
        return (status, body)
    }

    static func dechunk(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < data.count {
            guard let lineEnd = data[i...].firstRange(of: [13, 10]) else { break }
            let sizeText = String(decoding: data[i..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size > 0 else { break }
            let start = lineEnd.upperBound
            guard start + size <= data.count else { break }
            out += data[start..<start + size]
            i = start + size + 2
        }
        return out
    }
}
