import XCTest
@testable import Core

/// The kubeconfig parser reads with Yams' basic resolver (no regular expressions) and applies
/// YAML 1.1's null rule itself: plain `~`, `null`, `Null`, `NULL`, nothing, or `!!null` is
/// absent; quoted text is text, whatever it says.
final class KubeconfigNullTests: XCTestCase {
    private func context(_ namespaceLine: String) throws -> Kubeconfig.Context? {
        let yaml = """
            apiVersion: v1
            kind: Config
            current-context: c
            contexts:
            - name: c
              context:
                cluster: k
                user: u
                \(namespaceLine)
            """
        return try Kubeconfig.parse(yaml, file: "test.kubeconfig").contexts["c"]
    }

    func testPlainNullForms() throws {
        for line in ["namespace:", "namespace: ~", "namespace: null", "namespace: Null", "namespace: NULL", "namespace: !!null x"] {
            XCTAssertNil(try context(line)?.namespace, line)
        }
    }

    func testQuotedAndOtherTextStaysText() throws {
        XCTAssertEqual(try context("namespace: \"null\"")?.namespace, "null")
        XCTAssertEqual(try context("namespace: ''")?.namespace, "")
        XCTAssertEqual(try context("namespace: nullish")?.namespace, "nullish")
        XCTAssertEqual(try context("namespace: 0123")?.namespace, "0123")
        XCTAssertEqual(try context("namespace: kube-system")?.namespace, "kube-system")
    }

    func testBooleansAndEmptyListsStillRead() throws {
        let yaml = """
            clusters:
            - name: k
              cluster: {server: "https://10.0.0.1:6443", insecure-skip-tls-verify: yes}
            users: ~
            """
        let config = try Kubeconfig.parse(yaml, file: "test.kubeconfig")
        XCTAssertEqual(config.clusters["k"]?.server, "https://10.0.0.1:6443")
        XCTAssertEqual(config.clusters["k"]?.insecureSkipTLSVerify, true)
        XCTAssertTrue(config.users.isEmpty)
        XCTAssertNil(config.currentContext)
    }
}
