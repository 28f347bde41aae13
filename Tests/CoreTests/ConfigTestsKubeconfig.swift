import Foundation
import XCTest
@testable import Core

/// Each kubeconfig field, read through DatastoreConfig.load with KUBECONFIG set.
final class ConfigTestsKubeconfig: XCTestCase {
    private let env = ["KUBECONFIG": ConfigFixture.kubeconfigPath]

    private func load(cluster: String = "server: https://api.example:6443",
                      user: String = "token: \(ConfigFixture.secretToken)",
                      context: String = "cluster: c1\nuser: u1",
                      extra: [String: Data] = [:]) throws -> ClusterConnection {
        let yaml = ConfigFixture.kubeconfig(cluster: cluster, user: user, context: context)
        return try ConfigFixture.load(env, files: ConfigFixture.files(yaml, extra: extra))
    }

    func testServerAndTokenAndDefaults() throws {
        let connection = try load()
        XCTAssertEqual(connection, ClusterConnection(server: "https://api.example:6443",
                                                     token: ConfigFixture.secretToken))
    }

    func testTrailingSlashIsDropped() throws {
        XCTAssertEqual(try load(cluster: "server: https://api.example:6443/").server, "https://api.example:6443")
    }

    func testNamespaceFromContext() throws {
        XCTAssertEqual(try load(context: "cluster: c1\nuser: u1\nnamespace: calico-system").namespace,
                       "calico-system")
    }

    func testCertificateAuthorityFileRelativeToKubeconfigDirectory() throws {
        let connection = try load(cluster: "server: https://api:6443\ncertificate-authority: pki/ca.crt",
                                  extra: ["/etc/kube/pki/ca.crt": ConfigFixture.caPEM])
        XCTAssertEqual(connection.caPEM, ConfigFixture.caPEM)
    }

    func testCertificateAuthorityAbsolutePath() throws {
        let connection = try load(cluster: "server: https://api:6443\ncertificate-authority: /srv/ca.pem",
                                  extra: ["/srv/ca.pem": ConfigFixture.caPEM])
        XCTAssertEqual(connection.caPEM, ConfigFixture.caPEM)
    }

    func testCertificateAuthorityDataWinsOverFile() throws {
        let cluster = """
            server: https://api:6443
            certificate-authority: /missing/ca.crt
            certificate-authority-data: \(ConfigFixture.base64(ConfigFixture.caPEM))
            """
        XCTAssertEqual(try load(cluster: cluster).caPEM, ConfigFixture.caPEM)
    }

    func testInsecureSkipTLSVerify() throws {
        XCTAssertTrue(try load(cluster: "server: https://api:6443\ninsecure-skip-tls-verify: true")
            .insecureSkipTLSVerify)
        XCTAssertFalse(try load(cluster: "server: https://api:6443\ninsecure-skip-tls-verify: false")
            .insecureSkipTLSVerify)
    }

    func testTokenFileRelativeToKubeconfigDirectory() throws {
        let connection = try load(user: "tokenFile: tokens/calico",
                                  extra: ["/etc/kube/tokens/calico": Data("t".utf8)])
        XCTAssertEqual(connection.tokenFile, "/etc/kube/tokens/calico")
        XCTAssertNil(connection.token)
    }

    func testClientCertificateAndKeyFiles() throws {
        let connection = try load(user: "client-certificate: certs/node.crt\nclient-key: /keys/node.key",
                                  extra: ["/etc/kube/certs/node.crt": ConfigFixture.certPEM,
                                          "/keys/node.key": ConfigFixture.keyPEM])
        XCTAssertEqual(connection.clientCertPEM, ConfigFixture.certPEM)
        XCTAssertEqual(connection.clientKeyPEM, ConfigFixture.keyPEM)
        XCTAssertNil(connection.token)
    }

    func testClientCertificateAndKeyData() throws {
        let user = """
            client-certificate-data: \(ConfigFixture.base64(ConfigFixture.certPEM))
            client-key-data: \(ConfigFixture.base64(ConfigFixture.keyPEM))
            """
        let connection = try load(user: user)
        XCTAssertEqual(connection.clientCertPEM, ConfigFixture.certPEM)
        XCTAssertEqual(connection.clientKeyPEM, ConfigFixture.keyPEM)
    }

    func testContextWithoutUserIsAnonymous() throws {
        let connection = try load(context: "cluster: c1")
        XCTAssertNil(connection.token)
        XCTAssertNil(connection.clientCertPEM)
    }

    func testNumericLookingTokenStaysAString() throws {
        XCTAssertEqual(try load(user: "token: 0123").token, "0123")
    }

    func testCurrentContextSelectsAmongSeveral() throws {
        let yaml = """
            current-context: second
            clusters:
            - {name: a, cluster: {server: "https://a:1"}}
            - {name: b, cluster: {server: "https://b:2"}}
            contexts:
            - {name: first, context: {cluster: a}}
            - {name: second, context: {cluster: b, user: ub}}
            users:
            - {name: ub, user: {token: tb}}
            """
        let connection = try ConfigFixture.load(env, files: ConfigFixture.files(yaml))
        XCTAssertEqual(connection, ClusterConnection(server: "https://b:2", token: "tb"))
    }

    func testKubeconfigListFirstExistingFileWins() throws {
        let files = ConfigFixture.files(ConfigFixture.kubeconfig())
        let connection = try ConfigFixture.load(["KUBECONFIG": "/nope/a:\(ConfigFixture.kubeconfigPath):/nope/b"],
                                                files: files)
        XCTAssertEqual(connection.server, "https://api.example:6443")
    }

    func testKubeconfigTildeExpandsWithHome() throws {
        let files = ConfigFileReader.inMemory(["/home/me/.kube/config": Data(ConfigFixture.kubeconfig().utf8)])
        let connection = try ConfigFixture.load(["KUBECONFIG": "~/.kube/config", "HOME": "/home/me"], files: files)
        XCTAssertEqual(connection.server, "https://api.example:6443")
    }

    /// The real file system: a kubeconfig with a relative CA path in a temporary directory.
    func testLocalFilesWithRelativePaths() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("config-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try ConfigFixture.caPEM.write(to: directory.appendingPathComponent("ca.crt"))
        try Data("tok".utf8).write(to: directory.appendingPathComponent("token"))
        let yaml = ConfigFixture.kubeconfig(cluster: "server: https://127.0.0.1:16443\ncertificate-authority: ca.crt",
                                            user: "tokenFile: token")
        let path = directory.appendingPathComponent("admin.kubeconfig").path
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: path))
        let connection = try DatastoreConfig.load(environment: ["KUBECONFIG": path])
        XCTAssertEqual(connection.caPEM, ConfigFixture.caPEM)
        XCTAssertEqual(connection.tokenFile, directory.appendingPathComponent("token").path)
    }

    func testDescriptionRedactsSecrets() throws {
        let connection = ClusterConnection(server: "https://a:1", clientKeyPEM: ConfigFixture.keyPEM,
                                           token: ConfigFixture.secretToken)
        for text in ["\(connection)", String(reflecting: connection)] {
            XCTAssertFalse(text.contains(ConfigFixture.secretToken), text)
            XCTAssertFalse(text.contains("PRIVATE KEY"), text)
            XCTAssertTrue(text.contains("token=<redacted>"), text)
        }
    }
}
