/// The parts of a kubeconfig file (`kind: Config`) that calico-node uses, as written in the file:
/// paths are not yet resolved and `-data` fields are still base64.
public struct Kubeconfig: Sendable, Equatable {
    public struct Cluster: Sendable, Equatable {
        public var server: String?
        public var certificateAuthority: String?
        public var certificateAuthorityData: String?
        public var insecureSkipTLSVerify = false
    }

    public struct Context: Sendable, Equatable {
        public var cluster: String?
        public var user: String?
        public var namespace: String?
    }

    public struct User: Sendable, Equatable {
        public var token: String?
        public var tokenFile: String?
        public var clientCertificate: String?
        public var clientKey: String?
        public var clientCertificateData: String?
        public var clientKeyData: String?
        /// Set when the user authenticates through `exec` or `auth-provider`, which we do not run.
        public var externalMechanism: String?

        var hasCredentials: Bool {
            [token, tokenFile, clientCertificate, clientKey, clientCertificateData, clientKeyData]
                .contains { $0 != nil }
        }
    }

    public var currentContext: String?
    public var clusters: [String: Cluster] = [:]
    public var contexts: [String: Context] = [:]
    public var users: [String: User] = [:]
}
