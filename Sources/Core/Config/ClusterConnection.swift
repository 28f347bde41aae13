import Foundation

/// Everything needed to reach one Kubernetes API server, however it was configured (kubeconfig,
/// the K8S_* variables, or in-cluster service account). Certificates and keys are PEM bytes, read
/// once from files or decoded from kubeconfig `-data` fields.
public struct ClusterConnection: Sendable, Equatable {
    /// Base URL, e.g. `https://10.96.0.1:443`, without a trailing slash.
    public var server: String
    /// PEM CA bundle to verify the server with; nil means the system trust store.
    public var caPEM: Data?
    /// Only when a kubeconfig says insecure-skip-tls-verify: true. Never the default.
    public var insecureSkipTLSVerify: Bool
    public var clientCertPEM: Data?
    public var clientKeyPEM: Data?
    /// A bearer token given literally (K8S_TOKEN, kubeconfig `token`).
    public var token: String?
    /// A file holding the bearer token, re-read when it changes (service-account tokens rotate).
    public var tokenFile: String?
    /// The kubeconfig context's namespace, if it names one (a default for namespaced requests).
    public var namespace: String?

    public init(server: String, caPEM: Data? = nil, insecureSkipTLSVerify: Bool = false,
                clientCertPEM: Data? = nil, clientKeyPEM: Data? = nil, token: String? = nil, tokenFile: String? = nil,
                namespace: String? = nil) {
        self.server = server
        self.caPEM = caPEM
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.clientCertPEM = clientCertPEM
        self.clientKeyPEM = clientKeyPEM
        self.token = token
        self.tokenFile = tokenFile
        self.namespace = namespace
    }
}
