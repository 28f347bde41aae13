import Foundation

/// Turns the KUBECONFIG variable into a connection draft: picks the file, parses it, follows
/// current-context to its cluster and user, reads the files they name (relative to the
/// kubeconfig's own directory, as kubectl does) and decodes the `-data` fields.
enum KubeconfigLoader {
    /// `variable` is KUBECONFIG's value: one path or a colon-separated list, of which the first
    /// existing file is used. A leading `~/` is expanded with `home`.
    static func draft(variable: String, home: String?, reader: ConfigFileReader)
        throws(DatastoreConfigError) -> ConnectionDraft {
        let paths = variable.split(separator: ":").map { expandHome(String($0), home: home) }.filter { !$0.isEmpty }
        guard let file = paths.first(where: { reader.read($0) != .notFound }) else {
            if paths.count == 1 { throw .fileNotFound(path: paths[0], purpose: "kubeconfig (KUBECONFIG)") }
            throw .noKubeconfigFound(paths: paths)
        }
        let data = try reader.contents(of: file, purpose: "kubeconfig (KUBECONFIG)")
        guard let text = String(data: data, encoding: .utf8) else {
            throw .yamlSyntax(file: file, line: nil, column: nil, problem: "the file is not UTF-8 text")
        }
        let config = try Kubeconfig.parse(text, file: file)
        return try KubeconfigSelection(config: config, file: file).draft(reader: reader)
    }

    static func expandHome(_ path: String, home: String?) -> String {
        guard path.hasPrefix("~/"), let home, !home.isEmpty else { return path }
        return home + path.dropFirst(1)
    }
}

/// The current context of one parsed kubeconfig, with its cluster and user looked up.
private struct KubeconfigSelection {
    let file: String
    let directory: String?
    let contextName: String
    let context: Kubeconfig.Context
    let clusterName: String
    let cluster: Kubeconfig.Cluster
    let userName: String?
    let user: Kubeconfig.User?

    init(config: Kubeconfig, file: String) throws(DatastoreConfigError) {
        self.file = file
        directory = file.lastIndex(of: "/").map { String(file[..<$0]) }.map { $0.isEmpty ? "/" : $0 }
        guard let name = config.currentContext, !name.isEmpty else { throw .noCurrentContext(file: file) }
        guard let context = config.contexts[name] else { throw .contextNotFound(file: file, context: name) }
        guard let clusterName = context.cluster, !clusterName.isEmpty else {
            throw .invalidKubeconfig(file: file, path: "context '\(name)'", problem: "names no cluster")
        }
        guard let cluster = config.clusters[clusterName] else {
            throw .unknownCluster(file: file, context: name, cluster: clusterName)
        }
        contextName = name
        self.context = context
        self.clusterName = clusterName
        self.cluster = cluster
        if let userName = context.user, !userName.isEmpty {
            guard let user = config.users[userName] else {
                throw .unknownUser(file: file, context: name, user: userName)
            }
            self.userName = userName
            self.user = user
        } else {
            userName = nil
            user = nil
        }
    }

    /// Relative paths in a kubeconfig are relative to the kubeconfig's directory.
    func resolve(_ path: String) -> String {
        guard !path.hasPrefix("/"), let directory else { return path }
        return directory == "/" ? "/" + path : directory + "/" + path
    }

    func draft(reader: ConfigFileReader) throws(DatastoreConfigError) -> ConnectionDraft {
        guard let server = cluster.server, !server.isEmpty else {
            throw .clusterWithoutServer(file: file, cluster: clusterName)
        }
        var draft = ConnectionDraft()
        let clusterSource = "kubeconfig \(file) cluster '\(clusterName)'"
        draft.server = .init(value: server, source: clusterSource)
        draft.insecureSkipTLSVerify = cluster.insecureSkipTLSVerify
        draft.caPEM = try pem(data: cluster.certificateAuthorityData, field: "certificate-authority-data",
                              path: cluster.certificateAuthority, pathField: "certificate-authority",
                              entry: clusterName, what: "CA certificate", reader: reader)
        draft.namespace = context.namespace.flatMap { $0.isEmpty ? nil : $0 }
        guard let user, let userName else { return draft }
        if let mechanism = user.externalMechanism, !user.hasCredentials {
            throw .unsupportedAuthentication(file: file, user: userName, mechanism: mechanism)
        }
        let userSource = "kubeconfig \(file) user '\(userName)'"
        draft.clientCert = try pem(data: user.clientCertificateData, field: "client-certificate-data",
                                   path: user.clientCertificate, pathField: "client-certificate",
                                   entry: userName, what: "client certificate", reader: reader)
            .map { .init(value: $0, source: userSource) }
        draft.clientKey = try pem(data: user.clientKeyData, field: "client-key-data",
                                  path: user.clientKey, pathField: "client-key",
                                  entry: userName, what: "client key", reader: reader)
            .map { .init(value: $0, source: userSource) }
        draft.token = user.token.flatMap { $0.isEmpty ? nil : $0 }
        draft.tokenFile = user.tokenFile.flatMap { $0.isEmpty ? nil : $0 }
            .map { .init(value: resolve($0), source: "token file of \(userSource)") }
        return draft
    }

    /// PEM from a `-data` field (base64, which wins, as in kubectl) or else from a file path.
    private func pem(data: String?, field: String, path: String?, pathField: String, entry: String,
                     what: String, reader: ConfigFileReader) throws(DatastoreConfigError) -> Data? {
        if let data, !data.isEmpty {
            let compact = data.filter { !$0.isWhitespace }
            guard let decoded = Data(base64Encoded: compact) else {
                throw .badBase64(file: file, entry: entry, field: field)
            }
            try PEMCheck.require(decoded, source: "kubeconfig \(file) \(field) of '\(entry)'", what: what)
            return decoded
        }
        guard let path, !path.isEmpty else { return nil }
        return try reader.pem(at: resolve(path), purpose: "kubeconfig \(file) \(pathField) of '\(entry)'",
                              what: what)
    }
}
