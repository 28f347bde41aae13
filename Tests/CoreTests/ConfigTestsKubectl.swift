import Foundation
import XCTest
@testable import Core

/// Kubeconfigs written by the real `kubectl config` (on PATH; scripts/test.sh checks it), so that
/// the parser follows kubectl's own spelling of every field.
final class ConfigTestsKubectl: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubectl-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private func kubectl(_ arguments: [String], kubeconfig: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["kubectl", "config"] + arguments + ["--kubeconfig", kubeconfig]
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, "kubectl config \(arguments.joined(separator: " ")): \(message)")
    }

    func testEmbeddedCertificatesAndNamespace() throws {
        for (name, data) in [("ca.crt", ConfigFixture.caPEM), ("node.crt", ConfigFixture.certPEM),
                             ("node.key", ConfigFixture.keyPEM)] {
            try data.write(to: directory.appendingPathComponent(name))
        }
        let kubeconfig = path("embedded.kubeconfig")
        try kubectl(["set-cluster", "dev", "--server=https://127.0.0.1:16443",
                     "--certificate-authority=\(path("ca.crt"))", "--embed-certs=true"], kubeconfig: kubeconfig)
        try kubectl(["set-credentials", "node", "--client-certificate=\(path("node.crt"))",
                     "--client-key=\(path("node.key"))", "--embed-certs=true"], kubeconfig: kubeconfig)
        try kubectl(["set-context", "dev", "--cluster=dev", "--user=node", "--namespace=kube-system"],
                    kubeconfig: kubeconfig)
        try kubectl(["use-context", "dev"], kubeconfig: kubeconfig)

        let connection = try DatastoreConfig.load(environment: ["KUBECONFIG": kubeconfig])
        XCTAssertEqual(connection, ClusterConnection(server: "https://127.0.0.1:16443", caPEM: ConfigFixture.caPEM,
                                                     clientCertPEM: ConfigFixture.certPEM,
                                                     clientKeyPEM: ConfigFixture.keyPEM, namespace: "kube-system"))
    }

    func testTokenAndInsecure() throws {
        let kubeconfig = path("token.kubeconfig")
        try kubectl(["set-cluster", "dev", "--server=https://[::1]:6443", "--insecure-skip-tls-verify=true"],
                    kubeconfig: kubeconfig)
        try kubectl(["set-credentials", "admin", "--token=\(ConfigFixture.secretToken)"], kubeconfig: kubeconfig)
        try kubectl(["set-context", "dev", "--cluster=dev", "--user=admin"], kubeconfig: kubeconfig)
        try kubectl(["use-context", "dev"], kubeconfig: kubeconfig)

        let connection = try DatastoreConfig.load(environment: ["KUBECONFIG": kubeconfig])
        XCTAssertEqual(connection, ClusterConnection(server: "https://[::1]:6443", insecureSkipTLSVerify: true,
                                                     token: ConfigFixture.secretToken))
    }
}
