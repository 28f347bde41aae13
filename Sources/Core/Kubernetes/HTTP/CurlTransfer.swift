import CCalicoSystem
import Foundation

/// One easy handle and what its answer is delivered to. Created on the caller's thread, then
/// owned by the loop thread from `CurlMultiLoop.submit` on: every method but `make` and `attach`
/// runs on the loop thread only, which is why `@unchecked Sendable` is sound.
final class CurlTransfer: @unchecked Sendable {
    enum Sink {
        /// The whole answer, whatever its status.
        case buffered(CheckedContinuation<HTTPResponse, Error>)
        /// 2xx body chunks as they arrive; any other status ends the stream with `HTTPStatusError`.
        case streaming(AsyncThrowingStream<Data, Error>.Continuation)
        /// The whole answer, whatever its status, handed to a function on the loop thread (no
        /// task to resume: the agent's forwarding answers its event loop from here).
        case callback(@Sendable (Result<HTTPResponse, Error>) -> Void)
    }

    let curl: LibCurl
    let easy: UnsafeMutableRawPointer
    private let headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private let summary: String
    private var sink: Sink?
    private var body = Data()
    /// Streaming only: decided at the first body chunk.
    private var streamStatus: Int?
    /// Set when a cancel reached the loop before the transfer did.
    var cancelRequested = false

    /// A configured transfer. The token is read first, so a failure leaks nothing; once the
    /// object exists, `deinit` alone frees the C resources, whichever way this returns.
    static func make(request: HTTPRequest, config: HTTPClientConfig) throws -> CurlTransfer {
        var headers = request.headers
        if headers.keys.contains(where: { $0.lowercased() == "accept" }) == false { headers["Accept"] = "application/json" }
        if let token = try config.token.current() { headers["Authorization"] = "Bearer \(token)" }
        headers["Expect"] = ""  // no 100-continue round trip before bodies
        let summary = "\(request.method) \(redacted(request.url))"
        let curl = try LibCurl.get()
        guard let easy = curl.easyInit() else { throw HTTPTransportError(message: "\(summary): curl_easy_init failed") }
        let transfer = CurlTransfer(curl: curl, easy: easy, headers: headers, summary: summary)
        try transfer.configure(request: request, config: config)
        return transfer
    }

    private init(curl: LibCurl, easy: UnsafeMutableRawPointer, headers: [String: String], summary: String) {
        self.curl = curl
        self.easy = easy
        self.summary = summary
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            // "Name:" with nothing after it makes libcurl drop that header.
            list = curl.slistAppend(list, value.isEmpty ? "\(name):" : "\(name): \(value)")
        }
        headerList = list
    }

    deinit {
        curl.easyCleanup(easy)
        curl.slistFreeAll(headerList)
        errorBuffer.deallocate()
    }

    private func configure(request: HTTPRequest, config: HTTPClientConfig) throws {
        try set(CURLOPT_URL, string: request.url)
        try set(CURLOPT_ERRORBUFFER, pointer: errorBuffer)
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_HTTPHEADER, pointer: headerList)
        try set(CURLOPT_USERAGENT, string: config.userAgent)
        try set(CURLOPT_CONNECTTIMEOUT_MS, Int(config.connectTimeout * 1000))
        if let timeout = request.timeout { try set(CURLOPT_TIMEOUT_MS, Int(timeout * 1000)) }
        try set(CURLOPT_TCP_KEEPALIVE, 1)
        try set(CURLOPT_TCP_KEEPIDLE, 30)
        try set(CURLOPT_TCP_KEEPINTVL, 10)
        try set(CURLOPT_PROTOCOLS_STR, string: "http,https")
        try configureTLS(config)
        try configureMethod(request)
        let me = Unmanaged.passUnretained(self).toOpaque()
        try check(cs_curl_setopt_write(curl.easySetopt, easy) { data, size, count, userdata in
            guard let userdata else { return 0 }
            let n = size * count
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
            return transfer.received(UnsafeRawBufferPointer(start: data, count: n)) ? n : 0
        }, CURLOPT_WRITEFUNCTION)
        try set(CURLOPT_WRITEDATA, pointer: me)
    }

    private func configureTLS(_ config: HTTPClientConfig) throws {
        let verify = config.insecureSkipTLSVerify ? 0 : 1
        try set(CURLOPT_SSL_VERIFYPEER, verify)
        try set(CURLOPT_SSL_VERIFYHOST, verify * 2)
        if let ca = config.caPEM {
            try set(CURLOPT_CAINFO_BLOB, blob: ca)
            // Trust only the configured CA, not also the system directory.
            try set(CURLOPT_CAPATH, pointer: nil)
        }
        if let cert = config.clientCertPEM {
            try set(CURLOPT_SSLCERTTYPE, string: "PEM")
            try set(CURLOPT_SSLCERT_BLOB, blob: cert)
        }
        if let key = config.clientKeyPEM {
            try set(CURLOPT_SSLKEYTYPE, string: "PEM")
            try set(CURLOPT_SSLKEY_BLOB, blob: key)
        }
    }

    private func configureMethod(_ request: HTTPRequest) throws {
        let method = request.method.uppercased()
        switch method {
        case "GET": try set(CURLOPT_HTTPGET, 1)
        case "HEAD": try set(CURLOPT_NOBODY, 1)
        case "POST": try set(CURLOPT_POST, 1)
        default: try set(CURLOPT_CUSTOMREQUEST, string: method)
        }
        if let body = request.body {
            try check(cs_curl_setopt_off(curl.easySetopt, easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)), CURLOPT_POSTFIELDSIZE_LARGE)
            try body.withUnsafeBytes { bytes in
                // COPYPOSTFIELDS copies, so the Data need not outlive this call; never NULL.
                let base = bytes.baseAddress ?? UnsafeRawPointer(("" as StaticString).utf8Start)
                try check(cs_curl_setopt_ptr(curl.easySetopt, easy, CURLOPT_COPYPOSTFIELDS, base), CURLOPT_COPYPOSTFIELDS)
            }
        }
    }

    // MARK: Delivery (loop thread)

    func attach(_ sink: Sink) { self.sink = sink }

    /// A body chunk; false aborts the transfer (the consumer has gone).
    func received(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard case .streaming(let continuation)? = sink else {
            body.append(contentsOf: bytes)
            return true
        }
        let status = streamStatus ?? responseCode()
        streamStatus = status
        guard (200..<300).contains(status) else {
            body.append(contentsOf: bytes)
            return true
        }
        if case .terminated = continuation.yield(Data(bytes)) { return false }
        return true
    }

    /// libcurl finished the transfer with `code`.
    func complete(_ code: CURLcode) {
        guard code == CURLE_OK else {
            let detail = String(cString: errorBuffer)
            let text = detail.isEmpty ? curl.easyError(code) : detail
            fail(HTTPTransportError(message: "\(summary): \(text)"))
            return
        }
        let status = responseCode()
        switch sink {
        case .buffered(let continuation)?:
            continuation.resume(returning: HTTPResponse(status: status, body: body))
        case .callback(let done)?:
            done(.success(HTTPResponse(status: status, body: body)))
        case .streaming(let continuation)?:
            if (200..<300).contains(status) { continuation.finish() }
            else { continuation.finish(throwing: HTTPStatusError(status: status, body: body)) }
        case nil: break
        }
        sink = nil
    }

    func fail(_ error: Error) {
        switch sink {
        case .buffered(let continuation)?: continuation.resume(throwing: error)
        case .callback(let done)?: done(.failure(error))
        case .streaming(let continuation)?: continuation.finish(throwing: error)
        case nil: break
        }
        sink = nil
    }

    private func responseCode() -> Int {
        var code = 0
        _ = cs_curl_getinfo_long(curl.easyGetinfo, easy, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    // MARK: Options

    private func check(_ code: CURLcode, _ option: CURLoption) throws {
        guard code == CURLE_OK else {
            throw HTTPTransportError(message: "\(summary): libcurl rejected option \(option.rawValue): "
                + curl.easyError(code))
        }
    }

    private func set(_ option: CURLoption, _ value: Int) throws {
        try check(cs_curl_setopt_long(curl.easySetopt, easy, option, value), option)
    }

    private func set(_ option: CURLoption, string: String) throws {
        // libcurl copies string options (since 7.17).
        try check(string.withCString { cs_curl_setopt_ptr(curl.easySetopt, easy, option, $0) }, option)
    }

    private func set(_ option: CURLoption, pointer: UnsafeRawPointer?) throws {
        try check(cs_curl_setopt_ptr(curl.easySetopt, easy, option, pointer), option)
    }

    private func set(_ option: CURLoption, blob: Data) throws {
        let code = blob.withUnsafeBytes { bytes -> CURLcode in
            var b = curl_blob(data: UnsafeMutableRawPointer(mutating: bytes.baseAddress), len: bytes.count,
                              flags: UInt32(CURL_BLOB_COPY))
            return withUnsafePointer(to: &b) { cs_curl_setopt_ptr(curl.easySetopt, easy, option, $0) }
        }
        try check(code, option)
    }

    /// The URL without userinfo, for messages.
    static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@"),
              url[scheme.upperBound..<at].contains("/") == false else { return url }
        return String(url[..<scheme.upperBound]) + String(url[url.index(after: at)...])
    }
}
