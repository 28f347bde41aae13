import Foundation
import XCTest
@testable import Core

/// Fixtures shared by the ConfigTests* classes: PEM stand-ins, an in-memory file system and a
/// kubeconfig writer.
enum ConfigFixture {
    static let caPEM = Data("-----BEGIN CERTIFICATE-----\nQ0EK\n-----END CERTIFICATE-----\n".utf8)
    static let certPEM = Data("-----BEGIN CERTIFICATE-----\nQ0VSVAo=\n-----END CERTIFICATE-----\n".utf8)
    static let keyPEM = Data("-----BEGIN PRIVATE KEY-----\nS0VZCg==\n-----END PRIVATE KEY-----\n".utf8)
    static let otherPEM = Data("-----BEGIN CERTIFICATE-----\nT1RIRVIK\n-----END CERTIFICATE-----\n".utf8)
    static let secretToken = "s3cr3t-t0ken-value"

    static let kubeconfigPath = "/etc/kube/config"

    /// A kubeconfig whose current context `main` uses cluster `c1` and user `u1`; the cluster and
    /// user bodies are given as indented YAML lines.
    static func kubeconfig(cluster: String = "server: https://api.example:6443",
                           user: String = "token: \(secretToken)",
                           context: String = "cluster: c1\nuser: u1",
                           currentContext: String = "main") -> String {
        """
        apiVersion: v1
        kind: Config
        current-context: \(currentContext)
        clusters:
        - name: c1
          cluster:
            \(indent(cluster))
        contexts:
        - name: main
          context:
            \(indent(context))
        users:
        - name: u1
          user:
            \(indent(user))
        """
    }

    private static func indent(_ body: String) -> String {
        body.replacingOccurrences(of: "\n", with: "\n    ")
    }

    static func files(_ kubeconfig: String? = nil, extra: [String: Data] = [:]) -> ConfigFileReader {
        var files = extra
        if let kubeconfig { files[kubeconfigPath] = Data(kubeconfig.utf8) }
        return .inMemory(files)
    }

    static func load(_ env: [String: String], files: ConfigFileReader,
                     serviceAccount: ServiceAccountPaths = .standard) throws -> ClusterConnection {
        try DatastoreConfig.load(environment: env, fileReader: files, serviceAccount: serviceAccount)
    }

    static func base64(_ data: Data) -> String { data.base64EncodedString() }
}

extension XCTestCase {
    /// Asserts that loading fails with exactly `expected`, and that no message leaks the token.
    func assertConfigError(_ expected: DatastoreConfigError, env: [String: String], files: ConfigFileReader,
                           serviceAccount: ServiceAccountPaths = .standard,
                           file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ConfigFixture.load(env, files: files, serviceAccount: serviceAccount),
                             file: file, line: line) { error in
            XCTAssertEqual(error as? DatastoreConfigError, expected, file: file, line: line)
            XCTAssertFalse("\(error)".contains(ConfigFixture.secretToken), "token leaked: \(error)",
                           file: file, line: line)
        }
    }
}
