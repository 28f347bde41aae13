/// Why the Kubernetes datastore connection could not be configured. Every message names the
/// variable or file at fault and says what to do; none ever contains a token, key or password.
public enum DatastoreConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    /// DATASTORE_TYPE holds something other than `kubernetes` (e.g. `etcdv3`).
    case unsupportedDatastoreType(String)
    /// None of KUBECONFIG, K8S_API_ENDPOINT or the in-cluster service variables is set.
    case notConfigured
    /// A file named by a variable or a kubeconfig does not exist. `purpose` says what it was for,
    /// e.g. "client certificate (K8S_CERT_FILE)".
    case fileNotFound(path: String, purpose: String)
    /// A file exists but cannot be read (permissions, a directory, ...).
    case fileUnreadable(path: String, purpose: String, reason: String)
    /// KUBECONFIG lists several paths and none of them exists.
    case noKubeconfigFound(paths: [String])
    /// The kubeconfig is not valid YAML. Only the position and the parser's problem are kept:
    /// the offending line could hold a token.
    case yamlSyntax(file: String, line: Int?, column: Int?, problem: String)
    /// The kubeconfig is YAML but not shaped like a kubeconfig (`path` locates the field).
    case invalidKubeconfig(file: String, path: String, problem: String)
    /// The kubeconfig has no (or an empty) current-context.
    case noCurrentContext(file: String)
    /// current-context names a context the file does not define.
    case contextNotFound(file: String, context: String)
    case unknownCluster(file: String, context: String, cluster: String)
    case unknownUser(file: String, context: String, user: String)
    case clusterWithoutServer(file: String, cluster: String)
    /// A server URL that is not http(s)://host[:port][/path]. `source` is a variable or a file.
    case invalidServerURL(source: String, value: String)
    /// A kubeconfig `...-data` field that is not valid base64.
    case badBase64(file: String, entry: String, field: String)
    /// Certificate or key material that is not PEM. `source` is a file path or a kubeconfig field.
    case notPEM(source: String, what: String)
    case certificateWithoutKey(source: String)
    case keyWithoutCertificate(source: String)
    /// The kubeconfig user authenticates only through a mechanism this agent does not run.
    case unsupportedAuthentication(file: String, user: String, mechanism: String)
    /// KUBERNETES_SERVICE_HOST is set without KUBERNETES_SERVICE_PORT or the other way round.
    case inClusterIncomplete(missing: String)
    case invalidServicePort(String)

    public var description: String {
        switch self {
        case .unsupportedDatastoreType(let value):
            return "DATASTORE_TYPE=\(value) is not supported: the only supported value is 'kubernetes' "
                + "(or leave DATASTORE_TYPE unset)"
        case .notConfigured:
            return "no Kubernetes API configured: set KUBECONFIG to a kubeconfig file, or K8S_API_ENDPOINT "
                + "(e.g. https://kubernetes-api:443) with K8S_CA_FILE and K8S_TOKEN or K8S_CERT_FILE/K8S_KEY_FILE, "
                + "or run in a pod (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT)"
        case let .fileNotFound(path, purpose):
            return "\(purpose): file \(path) does not exist"
        case let .fileUnreadable(path, purpose, reason):
            return "\(purpose): cannot read \(path): \(reason)"
        case .noKubeconfigFound(let paths):
            return "KUBECONFIG: none of the listed files exists: \(paths.joined(separator: ", "))"
        case let .yamlSyntax(file, line, column, problem):
            let position = line.map { " at line \($0)" + (column.map { ", column \($0)" } ?? "") } ?? ""
            return "kubeconfig \(file): YAML syntax error\(position): \(problem)"
        case let .invalidKubeconfig(file, path, problem):
            return "kubeconfig \(file): \(path): \(problem)"
        case .noCurrentContext(let file):
            return "kubeconfig \(file): no current-context set; set one with "
                + "`kubectl config use-context <name> --kubeconfig \(file)`"
        case let .contextNotFound(file, context):
            return "kubeconfig \(file): current-context '\(context)' is not among its contexts"
        case let .unknownCluster(file, context, cluster):
            return "kubeconfig \(file): context '\(context)' names cluster '\(cluster)', which the file does not define"
        case let .unknownUser(file, context, user):
            return "kubeconfig \(file): context '\(context)' names user '\(user)', which the file does not define"
        case let .clusterWithoutServer(file, cluster):
            return "kubeconfig \(file): cluster '\(cluster)' has no server URL"
        case let .invalidServerURL(source, value):
            return "\(source): server '\(value)' is not a URL like https://host:port"
        case let .badBase64(file, entry, field):
            return "kubeconfig \(file): \(field) of '\(entry)' is not valid base64"
        case let .notPEM(source, what):
            return "\(source): the \(what) is not PEM (expected a '-----BEGIN' block)"
        case .certificateWithoutKey(let source):
            return "\(source): a client certificate is configured without its key "
                + "(set K8S_KEY_FILE or the kubeconfig user's client-key)"
        case .keyWithoutCertificate(let source):
            return "\(source): a client key is configured without its certificate "
                + "(set K8S_CERT_FILE or the kubeconfig user's client-certificate)"
        case let .unsupportedAuthentication(file, user, mechanism):
            return "kubeconfig \(file): user '\(user)' authenticates with \(mechanism), which calico-node does "
                + "not support; give it a token, tokenFile or client certificate, or set K8S_TOKEN"
        case .inClusterIncomplete(let missing):
            return "in-cluster configuration: \(missing) is not set (both KUBERNETES_SERVICE_HOST and "
                + "KUBERNETES_SERVICE_PORT are needed)"
        case .invalidServicePort(let value):
            return "KUBERNETES_SERVICE_PORT='\(value)' is not a port number (1-65535)"
        }
    }
}
