import Foundation
import XCTest
@testable import Core

/// Every DatastoreConfigError: the right case, a message that names the file or variable, and
/// never the token.
final class ConfigTestsErrors: XCTestCase {
    private let kubeconfigEnv = ["KUBECONFIG": ConfigFixture.kubeconfigPath]
    private let file = ConfigFixture.kubeconfigPath

    private func assertKubeconfigError(_ expected: DatastoreConfigError, yaml: String, extra: [String: Data] = [:],
                                       env: [String: String] = [:], line: UInt = #line) {
        assertConfigError(expected, env: kubeconfigEnv.merging(env) { $1 },
                          files: ConfigFixture.files(yaml, extra: extra), line: line)
    }

    func testUnsupportedDatastoreTypeMessage() {
        assertConfigError(.unsupportedDatastoreType("etcdv3"),
                          env: ["DATASTORE_TYPE": "etcdv3", "KUBECONFIG": file],
                          files: ConfigFixture.files(ConfigFixture.kubeconfig()))
        let message = DatastoreConfigError.unsupportedDatastoreType("etcdv3").description
        for word in ["DATASTORE_TYPE", "etcdv3", "kubernetes"] { XCTAssertTrue(message.contains(word), message) }
    }

    func testNothingConfigured() {
        assertConfigError(.notConfigured, env: ["HOME": "/root"], files: .inMemory([:]))
        let message = DatastoreConfigError.notConfigured.description
        XCTAssertTrue(message.contains("KUBECONFIG") && message.contains("K8S_API_ENDPOINT"), message)
    }

    func testMissingKubeconfig() {
        assertConfigError(.fileNotFound(path: "/none", purpose: "kubeconfig (KUBECONFIG)"),
                          env: ["KUBECONFIG": "/none"], files: .inMemory([:]))
        assertConfigError(.noKubeconfigFound(paths: ["/a", "/b"]), env: ["KUBECONFIG": "/a:/b"], files: .inMemory([:]))
    }

    func testUnreadableKubeconfig() {
        let files = ConfigFileReader { _ in .unreadable(reason: "permission denied") }
        let expected = DatastoreConfigError.fileUnreadable(path: file, purpose: "kubeconfig (KUBECONFIG)",
                                                           reason: "permission denied")
        assertConfigError(expected, env: kubeconfigEnv, files: files)
        XCTAssertTrue(expected.description.contains(file))
    }

    func testYAMLSyntaxErrorHasPositionButNoContent() {
        let yaml = "current-context: main\nusers:\n- name: u1\n  user: {token: \(ConfigFixture.secretToken)\n"
        XCTAssertThrowsError(try ConfigFixture.load(kubeconfigEnv, files: ConfigFixture.files(yaml))) { error in
            guard case let .yamlSyntax(path, line, _, _)? = error as? DatastoreConfigError else {
                return XCTFail("expected a YAML syntax error, got \(error)")
            }
            XCTAssertEqual(path, file)
            XCTAssertNotNil(line)
            XCTAssertFalse("\(error)".contains(ConfigFixture.secretToken), "\(error)")
        }
    }

    func testNotUTF8AndEmptyAndWrongShape() {
        assertConfigError(.yamlSyntax(file: file, line: nil, column: nil, problem: "the file is not UTF-8 text"),
                          env: kubeconfigEnv, files: .inMemory([file: Data([0xff, 0xfe, 0xfd])]))
        assertKubeconfigError(.invalidKubeconfig(file: file, path: "(document)", problem: "the file is empty"),
                              yaml: "")
        assertKubeconfigError(.invalidKubeconfig(file: file, path: "(document)", problem: "expected a mapping"),
                              yaml: "- a\n- b\n")
        assertKubeconfigError(.invalidKubeconfig(file: file, path: "clusters", problem: "expected a list"),
                              yaml: "clusters: {a: b}\n")
        assertKubeconfigError(.invalidKubeconfig(file: file, path: "users[0].user.token", problem: "expected a string"),
                              yaml: "users:\n- name: u\n  user: {token: [a]}\n")
        assertKubeconfigError(.invalidKubeconfig(file: file, path: "contexts[0]", problem: "entry has no name"),
                              yaml: "contexts:\n- context: {cluster: c}\n")
        assertKubeconfigError(.invalidKubeconfig(file: file, path: "clusters[0].cluster.insecure-skip-tls-verify",
                                                 problem: "expected true or false"),
                              yaml: ConfigFixture.kubeconfig(cluster: "server: https://a:1\ninsecure-skip-tls-verify: maybe"))
    }

    func testCurrentContextProblems() {
        assertKubeconfigError(.noCurrentContext(file: file), yaml: ConfigFixture.kubeconfig(currentContext: "\"\""))
        assertKubeconfigError(.contextNotFound(file: file, context: "prod"),
                              yaml: ConfigFixture.kubeconfig(currentContext: "prod"))
        assertKubeconfigError(.invalidKubeconfig(file: file, path: "context 'main'", problem: "names no cluster"),
                              yaml: ConfigFixture.kubeconfig(context: "user: u1"))
    }

    func testContextNamesUnknownClusterOrUser() {
        assertKubeconfigError(.unknownCluster(file: file, context: "main", cluster: "c9"),
                              yaml: ConfigFixture.kubeconfig(context: "cluster: c9\nuser: u1"))
        assertKubeconfigError(.unknownUser(file: file, context: "main", user: "u9"),
                              yaml: ConfigFixture.kubeconfig(context: "cluster: c1\nuser: u9"))
    }

    func testClusterWithoutServer() {
        assertKubeconfigError(.clusterWithoutServer(file: file, cluster: "c1"),
                              yaml: ConfigFixture.kubeconfig(cluster: "insecure-skip-tls-verify: true"))
    }

    func testInvalidServerURLs() {
        for bad in ["api.example:6443", "ftp://api:21", "https://", "https://api:99999", "https://api:6443/?x=1"] {
            assertKubeconfigError(.invalidServerURL(source: "kubeconfig \(file) cluster 'c1'", value: bad),
                                  yaml: ConfigFixture.kubeconfig(cluster: "server: \"\(bad)\""))
        }
        assertConfigError(.invalidServerURL(source: "K8S_API_ENDPOINT", value: "kubernetes-api"),
                          env: ["K8S_API_ENDPOINT": "kubernetes-api"], files: .inMemory([:]))
        assertConfigError(.invalidServerURL(source: "K8S_API_ENDPOINT", value: "https://<redacted>@api:6443"),
                          env: ["K8S_API_ENDPOINT": "https://admin:\(ConfigFixture.secretToken)@api:6443",
                                "K8S_TOKEN": "t"], files: .inMemory([:]))
    }

    func testBadBase64() {
        assertKubeconfigError(.badBase64(file: file, entry: "c1", field: "certificate-authority-data"),
                              yaml: ConfigFixture.kubeconfig(cluster: "server: https://a:1\ncertificate-authority-data: '%%%'"))
        let user = "client-certificate-data: \(ConfigFixture.base64(ConfigFixture.certPEM))\nclient-key-data: not*base64"
        assertKubeconfigError(.badBase64(file: file, entry: "u1", field: "client-key-data"),
                              yaml: ConfigFixture.kubeconfig(user: user))
    }

    func testDataThatIsNotPEM() {
        let source = "kubeconfig \(file) client-certificate-data of 'u1'"
        let user = "client-certificate-data: \(ConfigFixture.base64(Data("DER?".utf8)))"
        assertKubeconfigError(.notPEM(source: source, what: "client certificate"),
                              yaml: ConfigFixture.kubeconfig(user: user))
        assertConfigError(.notPEM(source: "CA file (K8S_CA_FILE) /ca", what: "CA certificate"),
                          env: ["K8S_API_ENDPOINT": "https://a:1", "K8S_CA_FILE": "/ca"],
                          files: .inMemory(["/ca": Data("garbage".utf8)]))
    }

    func testMissingFilesNamedInKubeconfig() {
        let purpose = "kubeconfig \(file) certificate-authority of 'c1'"
        assertKubeconfigError(.fileNotFound(path: "/etc/kube/ca.crt", purpose: purpose),
                              yaml: ConfigFixture.kubeconfig(cluster: "server: https://a:1\ncertificate-authority: ca.crt"))
        assertKubeconfigError(.fileNotFound(path: "/tok", purpose: "token file of kubeconfig \(file) user 'u1'"),
                              yaml: ConfigFixture.kubeconfig(user: "tokenFile: /tok"))
    }

    func testMissingOverrideFiles() {
        let env = ["K8S_API_ENDPOINT": "https://a:1"]
        let cases: [(String, String)] = [("K8S_CA_FILE", "CA file (K8S_CA_FILE)"),
                                         ("K8S_CERT_FILE", "client certificate (K8S_CERT_FILE)"),
                                         ("K8S_KEY_FILE", "client key (K8S_KEY_FILE)")]
        for (variable, purpose) in cases {
            assertConfigError(.fileNotFound(path: "/gone", purpose: purpose),
                              env: env.merging([variable: "/gone"]) { $1 }, files: .inMemory([:]))
        }
    }

    func testCertificateWithoutKeyAndKeyWithoutCertificate() {
        let certOnly = "client-certificate-data: \(ConfigFixture.base64(ConfigFixture.certPEM))"
        assertKubeconfigError(.certificateWithoutKey(source: "kubeconfig \(file) user 'u1'"),
                              yaml: ConfigFixture.kubeconfig(user: certOnly))
        let pems = ["/c": ConfigFixture.certPEM, "/k": ConfigFixture.keyPEM]
        assertConfigError(.certificateWithoutKey(source: "K8S_CERT_FILE"),
                          env: ["K8S_API_ENDPOINT": "https://a:1", "K8S_CERT_FILE": "/c"], files: .inMemory(pems))
        assertConfigError(.keyWithoutCertificate(source: "K8S_KEY_FILE"),
                          env: ["K8S_API_ENDPOINT": "https://a:1", "K8S_KEY_FILE": "/k"], files: .inMemory(pems))
    }

    func testExecPluginUsersAreRejectedClearly() {
        assertKubeconfigError(.unsupportedAuthentication(file: file, user: "u1", mechanism: "exec"),
                              yaml: ConfigFixture.kubeconfig(user: "exec: {command: aws}"))
    }

    func testEveryMessageNamesItsSubject() {
        let samples: [(DatastoreConfigError, String)] = [
            (.fileNotFound(path: "/x", purpose: "p"), "/x"),
            (.yamlSyntax(file: "/k", line: 3, column: 7, problem: "bad"), "line 3, column 7"),
            (.invalidKubeconfig(file: "/k", path: "users[0]", problem: "p"), "users[0]"),
            (.noCurrentContext(file: "/k"), "/k"),
            (.contextNotFound(file: "/k", context: "ctx"), "ctx"),
            (.unknownCluster(file: "/k", context: "ctx", cluster: "cl"), "cl"),
            (.unknownUser(file: "/k", context: "ctx", user: "us"), "us"),
            (.clusterWithoutServer(file: "/k", cluster: "cl"), "cl"),
            (.badBase64(file: "/k", entry: "e", field: "client-key-data"), "client-key-data"),
            (.inClusterIncomplete(missing: "KUBERNETES_SERVICE_PORT"), "KUBERNETES_SERVICE_PORT"),
            (.invalidServicePort("x"), "KUBERNETES_SERVICE_PORT"),
        ]
        for (error, expected) in samples {
            XCTAssertTrue(error.description.contains(expected), error.description)
        }
    }
}
