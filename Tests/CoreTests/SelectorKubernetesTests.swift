import XCTest
@testable import Core

final class SelectorKubernetesTests: XCTestCase {
    private typealias Req = LabelSelector.Requirement

    func testEmptyLabelSelectorIsAll() throws {
        XCTAssertEqual(try SelectorExpr(kubernetes: LabelSelector()), .all)
        XCTAssertEqual(try SelectorExpr(kubernetes: LabelSelector(matchLabels: [:], matchExpressions: [])), .all)
    }

    func testMatchLabelsSortedByKey() throws {
        let expr = try SelectorExpr(kubernetes: LabelSelector(matchLabels: ["role": "db", "app": "web"]))
        XCTAssertEqual(expr, .and([.equals("app", "web"), .equals("role", "db")]))
        XCTAssertEqual(expr.description, "(app == \"web\" && role == \"db\")")
        XCTAssertEqual(try SelectorExpr(kubernetes: LabelSelector(matchLabels: ["app": "web"])), .equals("app", "web"))
    }

    func testMatchExpressionsInOrderAfterMatchLabels() throws {
        let selector = LabelSelector(matchLabels: ["app": "web"], matchExpressions: [
            Req(key: "env", operator: "In", values: ["prod", "dev"]),
            Req(key: "tier", operator: "NotIn", values: ["cache"]),
            Req(key: "owner", operator: "Exists"),
            Req(key: "legacy", operator: "DoesNotExist"),
        ])
        let expr = try SelectorExpr(kubernetes: selector)
        XCTAssertEqual(expr, .and([
            .equals("app", "web"), .isIn("env", ["dev", "prod"]), .notIn("tier", ["cache"]),
            .has("owner"), .not(.has("legacy")),
        ]))
        XCTAssertEqual(expr.description,
                       "(app == \"web\" && env in {\"dev\", \"prod\"} && tier not in {\"cache\"} && has(owner) && !has(legacy))")
        XCTAssertEqual(try SelectorExpr.parse(expr.description), expr)
    }

    func testConvertedSemanticsMatchKubernetes() throws {
        let expr = try SelectorExpr(kubernetes: LabelSelector(matchExpressions: [
            Req(key: "tier", operator: "NotIn", values: ["cache"]),
            Req(key: "legacy", operator: "DoesNotExist"),
        ]))
        XCTAssertTrue(expr.matches(labels: [:]), "NotIn matches a missing label in Kubernetes too")
        XCTAssertTrue(expr.matches(labels: ["tier": "web"]))
        XCTAssertFalse(expr.matches(labels: ["tier": "cache"]))
        XCTAssertFalse(expr.matches(labels: ["legacy": ""]))
    }

    func testPodSelectorAddsOrchestrator() throws {
        XCTAssertEqual(try SelectorExpr.kubernetesPodSelector(nil).description,
                       "projectcalico.org/orchestrator == \"k8s\"")
        XCTAssertEqual(try SelectorExpr.kubernetesPodSelector(LabelSelector()).description,
                       "projectcalico.org/orchestrator == \"k8s\"")
        XCTAssertEqual(try SelectorExpr.kubernetesPodSelector(LabelSelector(matchLabels: ["b": "2", "a": "1"])),
                       .and([.equals("projectcalico.org/orchestrator", "k8s"), .equals("a", "1"), .equals("b", "2")]))
        XCTAssertEqual(try SelectorExpr.kubernetesPodSelector(LabelSelector(matchLabels: ["a": "1"])).description,
                       "(projectcalico.org/orchestrator == \"k8s\" && a == \"1\")")
    }

    func testNamespaceSelector() throws {
        XCTAssertNil(try SelectorExpr.kubernetesNamespaceSelector(nil))
        XCTAssertEqual(try SelectorExpr.kubernetesNamespaceSelector(LabelSelector()), .all)
        let expr = try XCTUnwrap(try SelectorExpr.kubernetesNamespaceSelector(
            LabelSelector(matchLabels: ["kubernetes.io/metadata.name": "x"])))
        let prefixed = expr.prefixingKeys(with: SelectorLabelPrefix.namespace)
        XCTAssertEqual(prefixed.description, "pcns.kubernetes.io/metadata.name == \"x\"")
        XCTAssertTrue(prefixed.matches(labels: ["pcns.kubernetes.io/metadata.name": "x"]))
    }

    func testInvalidInputsAreTypedErrors() {
        XCTAssertThrowsError(try SelectorExpr(kubernetes: LabelSelector(matchExpressions: [
            Req(key: "a", operator: "Gt", values: ["1"])]))) { error in
            XCTAssertEqual(error as? SelectorConversionError, .unknownOperator(key: "a", operator: "Gt"))
        }
        XCTAssertThrowsError(try SelectorExpr(kubernetes: LabelSelector(matchExpressions: [
            Req(key: "a", operator: "In", values: [])]))) { error in
            XCTAssertEqual(error as? SelectorConversionError, .missingValues(key: "a", operator: "In"))
        }
        XCTAssertThrowsError(try SelectorExpr(kubernetes: LabelSelector(matchLabels: ["bad key": "x"]))) { error in
            XCTAssertEqual(error as? SelectorConversionError, .invalidKey("bad key"))
        }
        XCTAssertThrowsError(try SelectorExpr(kubernetes: LabelSelector(matchLabels: ["k": "a'b\"c"]))) { error in
            XCTAssertEqual(error as? SelectorConversionError, .unquotableValue(key: "k", value: "a'b\"c"))
            XCTAssertTrue("\(error)".contains("quote"))
        }
    }
}
