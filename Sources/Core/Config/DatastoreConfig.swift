import Foundation

/// The datastore options of Calico's Kubernetes-datastore guide, read into one ClusterConnection:
///
/// | variable | meaning |
/// |---|---|
/// | DATASTORE_TYPE | must be `kubernetes` (the default) |
/// | KUBECONFIG | kubeconfig file (or colon-separated list; the first existing file is used) |
/// | K8S_API_ENDPOINT | API server URL; overrides the kubeconfig's server |
/// | K8S_CERT_FILE / K8S_KEY_FILE | client certificate and key; override the kubeconfig's |
/// | K8S_CA_FILE | CA to verify the server; overrides the kubeconfig's |
/// | K8S_TOKEN | bearer token; overrides the kubeconfig's token and token file |
///
/// With neither KUBECONFIG nor K8S_API_ENDPOINT, the pod's service account is used
/// (KUBERNETES_SERVICE_HOST/PORT and /var/run/secrets/kubernetes.io/serviceaccount).
public enum DatastoreConfig {
    public static let supportedDatastoreType = "kubernetes"

    /// Pure: everything comes from `environment`, `fileReader` and `serviceAccount`.
    public static func load(environment: [String: String], fileReader: ConfigFileReader = .local,
                            serviceAccount: ServiceAccountPaths = .standard)
        throws(DatastoreConfigError) -> ClusterConnection {
        let env = ConfigEnvironment(environment)
        if let type = env["DATASTORE_TYPE"], type != supportedDatastoreType {
            throw .unsupportedDatastoreType(type)
        }
        var draft: ConnectionDraft
        if let kubeconfig = env["KUBECONFIG"] {
            draft = try KubeconfigLoader.draft(variable: kubeconfig, home: env["HOME"], reader: fileReader)
        } else if env["K8S_API_ENDPOINT"] != nil {
            draft = ConnectionDraft()
        } else if InClusterConfig.isPresent(env) {
            draft = try InClusterConfig.draft(env, paths: serviceAccount, reader: fileReader,
                                              needsToken: env["K8S_TOKEN"] == nil,
                                              needsCA: env["K8S_CA_FILE"] == nil)
        } else {
            throw .notConfigured
        }
        try applyOverrides(env, to: &draft, reader: fileReader)
        return try draft.finish(reader: fileReader)
    }

    /// The process's own environment and the local file system.
    public static func load() throws(DatastoreConfigError) -> ClusterConnection {
        try load(environment: ProcessInfo.processInfo.environment)
    }

    /// The K8S_* variables win over whatever the kubeconfig or service account said.
    static func applyOverrides(_ env: ConfigEnvironment, to draft: inout ConnectionDraft,
                               reader: ConfigFileReader) throws(DatastoreConfigError) {
        if let endpoint = env["K8S_API_ENDPOINT"] {
            draft.server = .init(value: endpoint, source: "K8S_API_ENDPOINT")
        }
        if let path = env["K8S_CA_FILE"] {
            draft.caPEM = try reader.pem(at: path, purpose: "CA file (K8S_CA_FILE)", what: "CA certificate")
            // An explicit CA means: verify the server with it.
            draft.insecureSkipTLSVerify = false
        }
        if let path = env["K8S_CERT_FILE"] {
            let pem = try reader.pem(at: path, purpose: "client certificate (K8S_CERT_FILE)",
                                     what: "client certificate")
            draft.clientCert = .init(value: pem, source: "K8S_CERT_FILE")
        }
        if let path = env["K8S_KEY_FILE"] {
            let pem = try reader.pem(at: path, purpose: "client key (K8S_KEY_FILE)", what: "client key")
            draft.clientKey = .init(value: pem, source: "K8S_KEY_FILE")
        }
        if let token = env["K8S_TOKEN"] {
            draft.token = token
            draft.tokenFile = nil
        }
    }
}

/// Environment lookups as Calico's manifests need them: surrounding whitespace is ignored and an
/// empty value (`K8S_API_ENDPOINT: ""` in a DaemonSet) counts as unset.
struct ConfigEnvironment: Sendable {
    private let values: [String: String]

    init(_ values: [String: String]) {
        self.values = values
    }

    subscript(name: String) -> String? {
        guard let value = values[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
            return nil
        }
        return value
    }
}
