import Foundation
import XCTest
@testable import Core

/// DATASTORE_TYPE and the K8S_* variables, alone and over a kubeconfig.
final class ConfigTestsOverrides: XCTestCase {
    private let pemFiles: [String: Data] = [
        "/pki/ca.crt": ConfigFixture.otherPEM, "/pki/node.crt": ConfigFixture.certPEM,
        "/pki/node.key": ConfigFixture.keyPEM,
    ]

    private func withKubeconfig(_ env: [String: String], cluster: String = "server: https://api.example:6443",
                                user: String = "token: \(ConfigFixture.secretToken)") throws -> ClusterConnection {
        var env = env
        env["KUBECONFIG"] = ConfigFixture.kubeconfigPath
        let files = ConfigFixture.files(ConfigFixture.kubeconfig(cluster: cluster, user: user), extra: pemFiles)
        return try ConfigFixture.load(env, files: files)
    }

    func testDatastoreTypeKubernetesExplicitOrDefault() throws {
        let files = ConfigFixture.files(ConfigFixture.kubeconfig())
        let base = ["KUBECONFIG": ConfigFixture.kubeconfigPath]
        let implicit = try ConfigFixture.load(base, files: files)
        let explicit = try ConfigFixture.load(base.merging(["DATASTORE_TYPE": "kubernetes"]) { $1 }, files: files)
        XCTAssertEqual(implicit, explicit)
    }

    func testEndpointAloneWithToken() throws {
        let connection = try ConfigFixture.load(
            ["K8S_API_ENDPOINT": "https://kubernetes-api:443", "K8S_TOKEN": "abc"], files: .inMemory([:]))
        XCTAssertEqual(connection, ClusterConnection(server: "https://kubernetes-api:443", token: "abc"))
    }

    func testEndpointAloneWithCertificatesAndCA() throws {
        let env = ["K8S_API_ENDPOINT": "https://10.0.0.1:6443/", "K8S_CA_FILE": "/pki/ca.crt",
                   "K8S_CERT_FILE": "/pki/node.crt", "K8S_KEY_FILE": "/pki/node.key"]
        let connection = try ConfigFixture.load(env, files: .inMemory(pemFiles))
        XCTAssertEqual(connection, ClusterConnection(server: "https://10.0.0.1:6443", caPEM: ConfigFixture.otherPEM,
                                                     clientCertPEM: ConfigFixture.certPEM,
                                                     clientKeyPEM: ConfigFixture.keyPEM))
    }

    func testEndpointOverridesKubeconfigServer() throws {
        let connection = try withKubeconfig(["K8S_API_ENDPOINT": "https://[fd00::1]:6443"])
        XCTAssertEqual(connection.server, "https://[fd00::1]:6443")
        XCTAssertEqual(connection.token, ConfigFixture.secretToken)
    }

    func testCAFileOverridesKubeconfigCAAndInsecure() throws {
        let cluster = """
            server: https://api:6443
            insecure-skip-tls-verify: true
            certificate-authority-data: \(ConfigFixture.base64(ConfigFixture.caPEM))
            """
        let connection = try withKubeconfig(["K8S_CA_FILE": "/pki/ca.crt"], cluster: cluster)
        XCTAssertEqual(connection.caPEM, ConfigFixture.otherPEM)
        XCTAssertFalse(connection.insecureSkipTLSVerify)
    }

    func testCertAndKeyFilesOverrideKubeconfigUser() throws {
        let user = """
            client-certificate-data: \(ConfigFixture.base64(ConfigFixture.otherPEM))
            client-key-data: \(ConfigFixture.base64(ConfigFixture.otherPEM))
            """
        let connection = try withKubeconfig(["K8S_CERT_FILE": "/pki/node.crt", "K8S_KEY_FILE": "/pki/node.key"],
                                            user: user)
        XCTAssertEqual(connection.clientCertPEM, ConfigFixture.certPEM)
        XCTAssertEqual(connection.clientKeyPEM, ConfigFixture.keyPEM)
    }

    func testKeyFileAloneCompletesKubeconfigCertificate() throws {
        let user = "client-certificate-data: \(ConfigFixture.base64(ConfigFixture.certPEM))"
        let connection = try withKubeconfig(["K8S_KEY_FILE": "/pki/node.key"], user: user)
        XCTAssertEqual(connection.clientCertPEM, ConfigFixture.certPEM)
        XCTAssertEqual(connection.clientKeyPEM, ConfigFixture.keyPEM)
    }

    func testTokenOverridesKubeconfigTokenAndTokenFile() throws {
        XCTAssertEqual(try withKubeconfig(["K8S_TOKEN": "override"]).token, "override")
        let fromFile = try withKubeconfig(["K8S_TOKEN": "override"], user: "tokenFile: /missing/is-fine")
        XCTAssertEqual(fromFile.token, "override")
        XCTAssertNil(fromFile.tokenFile)
    }

    func testEmptyAndBlankVariablesCountAsUnset() throws {
        let env = ["K8S_API_ENDPOINT": "", "K8S_TOKEN": "  ", "DATASTORE_TYPE": "",
                   "K8S_CA_FILE": "", "K8S_CERT_FILE": "", "K8S_KEY_FILE": ""]
        let connection = try withKubeconfig(env)
        XCTAssertEqual(connection, ClusterConnection(server: "https://api.example:6443",
                                                     token: ConfigFixture.secretToken))
    }

    func testEndpointWinsOverInClusterVariables() throws {
        let env = ["K8S_API_ENDPOINT": "https://outside:6443", "K8S_TOKEN": "t",
                   "KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"]
        XCTAssertEqual(try ConfigFixture.load(env, files: .inMemory([:])).server, "https://outside:6443")
    }
}
