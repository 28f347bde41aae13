/// Where a pod finds its service account; injectable so tests need not write to /var/run.
public struct ServiceAccountPaths: Sendable, Equatable {
    public var tokenFile: String
    public var caFile: String

    public init(tokenFile: String, caFile: String) {
        self.tokenFile = tokenFile
        self.caFile = caFile
    }

    public static let standard = ServiceAccountPaths(
        tokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token",
        caFile: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt")
}

/// The configuration of a pod's own service account, as client-go's InClusterConfig reads it:
/// the API service from KUBERNETES_SERVICE_HOST/PORT, the token file and the cluster CA.
enum InClusterConfig {
    static func isPresent(_ env: ConfigEnvironment) -> Bool {
        env["KUBERNETES_SERVICE_HOST"] != nil || env["KUBERNETES_SERVICE_PORT"] != nil
    }

    /// `needsToken` / `needsCA` are false when K8S_TOKEN / K8S_CA_FILE will replace them, so a
    /// missing service-account file is then no error.
    static func draft(_ env: ConfigEnvironment, paths: ServiceAccountPaths, reader: ConfigFileReader,
                      needsToken: Bool, needsCA: Bool) throws(DatastoreConfigError) -> ConnectionDraft {
        guard let host = env["KUBERNETES_SERVICE_HOST"] else {
            throw .inClusterIncomplete(missing: "KUBERNETES_SERVICE_HOST")
        }
        guard let portText = env["KUBERNETES_SERVICE_PORT"] else {
            throw .inClusterIncomplete(missing: "KUBERNETES_SERVICE_PORT")
        }
        guard let port = Int(portText), (1...65535).contains(port) else { throw .invalidServicePort(portText) }
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        var draft = ConnectionDraft()
        draft.server = .init(value: "https://\(bracketed):\(port)", source: "KUBERNETES_SERVICE_HOST/PORT")
        if needsToken {
            draft.tokenFile = .init(value: paths.tokenFile, source: "in-cluster service-account token")
        }
        if needsCA {
            draft.caPEM = try reader.pem(at: paths.caFile, purpose: "in-cluster service-account CA",
                                        what: "CA certificate")
        }
        return draft
    }
}
