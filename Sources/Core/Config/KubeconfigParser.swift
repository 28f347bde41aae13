import Yams

extension Kubeconfig {
    /// Parses kubeconfig YAML. Errors name `file` and the field's path (`users[0].user.token`) but
    /// never quote the document: any line of it may hold a credential.
    public static func parse(_ text: String, file: String) throws(DatastoreConfigError) -> Kubeconfig {
        let root: Node?
        do {
            // Every value is read as text, so the basic resolver suffices: Yams' default one
            // compiles seven ICU regular expressions on first use (~2 ms of every CNI call).
            root = try Yams.compose(yaml: text, .basic)
        } catch let error as YamlError {
            throw syntaxError(error, file: file)
        } catch {
            throw .yamlSyntax(file: file, line: nil, column: nil, problem: "unparseable YAML")
        }
        guard let root, !KubeconfigNode.isNull(root) else {
            throw .invalidKubeconfig(file: file, path: "(document)", problem: "the file is empty")
        }
        let top = KubeconfigNode(node: root, path: "(document)", file: file)
        var config = Kubeconfig()
        config.currentContext = try top.string("current-context")
        config.clusters = try top.namedList("clusters", entry: "cluster") { (node) throws(DatastoreConfigError) in
            Cluster(server: try node.string("server"),
                    certificateAuthority: try node.string("certificate-authority"),
                    certificateAuthorityData: try node.string("certificate-authority-data"),
                    insecureSkipTLSVerify: try node.bool("insecure-skip-tls-verify") ?? false)
        }
        config.contexts = try top.namedList("contexts", entry: "context") { (node) throws(DatastoreConfigError) in
            Context(cluster: try node.string("cluster"), user: try node.string("user"),
                    namespace: try node.string("namespace"))
        }
        config.users = try top.namedList("users", entry: "user") { (node) throws(DatastoreConfigError) in
            User(token: try node.string("token"), tokenFile: try node.string("tokenFile"),
                 clientCertificate: try node.string("client-certificate"),
                 clientKey: try node.string("client-key"),
                 clientCertificateData: try node.string("client-certificate-data"),
                 clientKeyData: try node.string("client-key-data"),
                 externalMechanism: ["exec", "auth-provider"].first { node.has($0) })
        }
        return config
    }

    private static func syntaxError(_ error: YamlError, file: String) -> DatastoreConfigError {
        switch error {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            return .yamlSyntax(file: file, line: mark.line, column: mark.column, problem: problem)
        case let .reader(problem, _, _, _):
            return .yamlSyntax(file: file, line: nil, column: nil, problem: problem)
        case let .duplicatedKeysInMapping(duplicates, context):
            return .yamlSyntax(file: file, line: context.mark.line, column: context.mark.column,
                               problem: "duplicated key(s) \(duplicates.sorted().joined(separator: ", "))")
        default:
            return .yamlSyntax(file: file, line: nil, column: nil, problem: "not readable as YAML")
        }
    }
}

/// One YAML node with its path in the document, for precise, content-free error messages.
private struct KubeconfigNode {
    let node: Node
    let path: String
    let file: String

    /// YAML 1.1's null: `~`, `null`, `Null`, `NULL` or nothing, unquoted and untagged, or
    /// `!!null` (the default resolver's rule, applied here: the basic resolver has none).
    static func isNull(_ node: Node) -> Bool {
        guard let scalar = node.scalar else { return false }
        // The tag as written: implicit for plain text, str for quoted text.
        let written = scalar.tag.description
        if written == Tag.Name.null.rawValue { return true }
        return written == Tag.Name.implicit.rawValue && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    private func invalid(_ path: String, _ problem: String) -> DatastoreConfigError {
        .invalidKubeconfig(file: file, path: path, problem: problem)
    }

    private func mapping() throws(DatastoreConfigError) -> Node.Mapping {
        guard let mapping = node.mapping else { throw invalid(path, "expected a mapping") }
        return mapping
    }

    private func childPath(_ key: String) -> String {
        path == "(document)" ? key : "\(path).\(key)"
    }

    /// The value under `key`, nil when absent or null.
    private func child(_ key: String) throws(DatastoreConfigError) -> Node? {
        guard let value = try mapping()[key], !Self.isNull(value) else { return nil }
        return value
    }

    func has(_ key: String) -> Bool {
        (try? child(key)) != nil
    }

    func string(_ key: String) throws(DatastoreConfigError) -> String? {
        guard let value = try child(key) else { return nil }
        guard let scalar = value.scalar else { throw invalid(childPath(key), "expected a string") }
        return scalar.string
    }

    func bool(_ key: String) throws(DatastoreConfigError) -> Bool? {
        guard let text = try string(key) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw invalid(childPath(key), "expected true or false")
        }
    }

    /// A kubeconfig list such as `clusters: [{name: a, cluster: {...}}]` as a dictionary by name;
    /// as in kubectl, a later entry of the same name wins.
    func namedList<Value>(_ key: String, entry: String,
                          _ decode: (KubeconfigNode) throws(DatastoreConfigError) -> Value)
        throws(DatastoreConfigError) -> [String: Value] {
        guard let list = try child(key) else { return [:] }
        guard let items = list.sequence else { throw invalid(childPath(key), "expected a list") }
        var result: [String: Value] = [:]
        for (index, item) in items.enumerated() {
            let itemNode = KubeconfigNode(node: item, path: "\(childPath(key))[\(index)]", file: file)
            guard let name = try itemNode.string("name"), !name.isEmpty else {
                throw invalid(itemNode.path, "entry has no name")
            }
            let body = try itemNode.child(entry) ?? Node.mapping(Node.Mapping([]))
            result[name] = try decode(KubeconfigNode(node: body, path: itemNode.childPath(entry), file: file))
        }
        return result
    }
}
