import Foundation

/// How the transport reaches one server: TLS material, authentication and limits. Built from a
/// `ClusterConnection`; PEM blobs are handed to libcurl in memory, never written to disk.
struct HTTPClientConfig: Sendable {
    var caPEM: Data?
    var insecureSkipTLSVerify: Bool
    var clientCertPEM: Data?
    var clientKeyPEM: Data?
    var token: BearerTokenSource
    /// Seconds allowed for TCP connect plus TLS handshake.
    var connectTimeout: Double
    var userAgent: String

    init(connection: ClusterConnection, connectTimeout: Double = 10,
         userAgent: String = "calico-node/\(CalicoVersion.version)") {
        caPEM = connection.caPEM
        insecureSkipTLSVerify = connection.insecureSkipTLSVerify
        clientCertPEM = connection.clientCertPEM
        clientKeyPEM = connection.clientKeyPEM
        token = BearerTokenSource(token: connection.token, tokenFile: connection.tokenFile)
        self.connectTimeout = connectTimeout
        self.userAgent = userAgent
    }
}
