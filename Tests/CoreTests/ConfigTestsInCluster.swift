import Foundation
import XCTest
@testable import Core

/// The pod's own service account: KUBERNETES_SERVICE_HOST/PORT plus the token and CA files.
final class ConfigTestsInCluster: XCTestCase {
    private let paths = ServiceAccountPaths(tokenFile: "/sa/token", caFile: "/sa/ca.crt")
    private let service = ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"]
    private var saFiles: [String: Data] {
        ["/sa/token": Data(ConfigFixture.secretToken.utf8), "/sa/ca.crt": ConfigFixture.caPEM]
    }

    private func load(_ env: [String: String], files: [String: Data]) throws -> ClusterConnection {
        try ConfigFixture.load(env, files: .inMemory(files), serviceAccount: paths)
    }

    func testServiceAccount() throws {
        let connection = try load(service, files: saFiles)
        XCTAssertEqual(connection, ClusterConnection(server: "https://10.96.0.1:443", caPEM: ConfigFixture.caPEM,
                                                     tokenFile: "/sa/token"))
    }

    func testIPv6HostIsBracketed() throws {
        let env = ["KUBERNETES_SERVICE_HOST": "fd00:10:96::1", "KUBERNETES_SERVICE_PORT": "6443"]
        XCTAssertEqual(try load(env, files: saFiles).server, "https://[fd00:10:96::1]:6443")
    }

    func testStandardPaths() {
        XCTAssertEqual(ServiceAccountPaths.standard.tokenFile, "/var/run/secrets/kubernetes.io/serviceaccount/token")
        XCTAssertEqual(ServiceAccountPaths.standard.caFile, "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt")
    }

    func testTokenAndCAOverridesMakeServiceAccountFilesOptional() throws {
        var env = service
        env["K8S_TOKEN"] = "literal"
        env["K8S_CA_FILE"] = "/pki/ca.crt"
        let connection = try load(env, files: ["/pki/ca.crt": ConfigFixture.otherPEM])
        XCTAssertEqual(connection, ClusterConnection(server: "https://10.96.0.1:443", caPEM: ConfigFixture.otherPEM,
                                                     token: "literal"))
    }

    func testKubeconfigWinsOverInCluster() throws {
        var env = service
        env["KUBECONFIG"] = ConfigFixture.kubeconfigPath
        var files = saFiles
        files[ConfigFixture.kubeconfigPath] = Data(ConfigFixture.kubeconfig().utf8)
        XCTAssertEqual(try load(env, files: files).server, "https://api.example:6443")
    }

    func testMissingTokenFile() {
        assertConfigError(.fileNotFound(path: "/sa/token", purpose: "in-cluster service-account token"),
                          env: service, files: .inMemory(["/sa/ca.crt": ConfigFixture.caPEM]), serviceAccount: paths)
    }

    func testMissingCAFile() {
        assertConfigError(.fileNotFound(path: "/sa/ca.crt", purpose: "in-cluster service-account CA"),
                          env: service, files: .inMemory(["/sa/token": Data("t".utf8)]), serviceAccount: paths)
    }

    func testHostWithoutPort() {
        assertConfigError(.inClusterIncomplete(missing: "KUBERNETES_SERVICE_PORT"),
                          env: ["KUBERNETES_SERVICE_HOST": "10.96.0.1"], files: .inMemory(saFiles),
                          serviceAccount: paths)
    }

    func testPortWithoutHost() {
        assertConfigError(.inClusterIncomplete(missing: "KUBERNETES_SERVICE_HOST"),
                          env: ["KUBERNETES_SERVICE_PORT": "443"], files: .inMemory(saFiles), serviceAccount: paths)
    }

    func testBadPort() {
        for port in ["https", "0", "70000"] {
            assertConfigError(.invalidServicePort(port),
                              env: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": port],
                              files: .inMemory(saFiles), serviceAccount: paths)
        }
    }
}
