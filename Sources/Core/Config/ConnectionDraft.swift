import Foundation

/// Connection settings gathered from one base source (a kubeconfig, the in-cluster service
/// account, or nothing when K8S_API_ENDPOINT stands alone), before the K8S_* overrides and the
/// final checks. Each credential remembers where it came from, so errors can say so.
struct ConnectionDraft: Sendable {
    struct Sourced<Value: Sendable>: Sendable {
        var value: Value
        var source: String
    }

    var server: Sourced<String>?
    var caPEM: Data?
    var insecureSkipTLSVerify = false
    var clientCert: Sourced<Data>?
    var clientKey: Sourced<Data>?
    var token: String?
    var tokenFile: Sourced<String>?
    var namespace: String?

    /// Checks the whole and produces the connection; the token file must be readable now (its
    /// contents are not kept: the transport re-reads it as it rotates).
    func finish(reader: ConfigFileReader) throws(DatastoreConfigError) -> ClusterConnection {
        guard let server else { throw .notConfigured }
        let url = try ServerURL.normalize(server.value, source: server.source)
        switch (clientCert, clientKey) {
        case (.some(let cert), nil): throw .certificateWithoutKey(source: cert.source)
        case (nil, .some(let key)): throw .keyWithoutCertificate(source: key.source)
        default: break
        }
        if let tokenFile {
            _ = try reader.contents(of: tokenFile.value, purpose: tokenFile.source)
        }
        return ClusterConnection(server: url, caPEM: caPEM, insecureSkipTLSVerify: insecureSkipTLSVerify,
                                 clientCertPEM: clientCert?.value, clientKeyPEM: clientKey?.value,
                                 token: token, tokenFile: tokenFile?.value, namespace: namespace)
    }
}

/// API server URLs: http(s), a host, an optional port and path; stored without a trailing slash.
enum ServerURL {
    static func normalize(_ text: String, source: String) throws(DatastoreConfigError) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let components = URLComponents(string: trimmed),
              let scheme = components.scheme?.lowercased(), scheme == "https" || scheme == "http",
              let host = components.host, !host.isEmpty,
              components.query == nil, components.fragment == nil,
              (1...65535).contains(components.port ?? 443),
              components.user == nil, components.password == nil
        else { throw .invalidServerURL(source: source, value: redactingUserInfo(text)) }
        var result = trimmed
        while result.hasSuffix("/") { result.removeLast() }
        return result
    }

    /// Credentials do not belong in a server URL, and must not reach a message either.
    private static func redactingUserInfo(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@") else { return text }
        let start = text.range(of: "://")?.upperBound ?? text.startIndex
        return start <= at ? text[..<start] + "<redacted>" + text[at...] : text
    }
}
