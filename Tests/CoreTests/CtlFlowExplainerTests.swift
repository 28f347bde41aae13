import XCTest
@testable import Core

final class CtlFlowExplainerTests: XCTestCase {
    private func pod(_ name: String, ns: String, labels: [String: String], ip: String, node: String) throws -> WorkloadEndpoint {
        let json: [String: Any] = ["metadata": ["name": name, "namespace": ns, "labels": labels],
                                   "spec": ["nodeName": node, "containers": [["name": "c", "ports": [["name": "http", "containerPort": 8080]]]]],
                                   "status": ["podIP": ip]]
        let pod = try Pod.decode(from: JSONValue(data: JSONSerialization.data(withJSONObject: json)))
        return try XCTUnwrap(WorkloadEndpoint(pod: pod))
    }

    private func k8sPolicy(_ json: String) throws -> Policy {
        try K8sPolicyConversion.policy(K8sNetworkPolicy.decode(from: JSONValue(data: Data(json.utf8))))
    }

    func testProfilesThenDefaultDenyThenAllow() throws {
        let client = try pod("client", ns: "shop", labels: ["app": "client"], ip: "10.244.1.5", node: "node-1")
        let web = try pod("web", ns: "shop", labels: ["app": "web"], ip: "10.244.2.7", node: "node-2")
        let nsJSON = try JSONValue(data: Data(#"{"metadata": {"name": "shop", "labels": {"team": "a"}}}"#.utf8))
        let ns = Profile(namespace: try Namespace.decode(from: nsJSON))
        let profiles = [ns.name: ns]
        let flow = CtlFlow(source: client, destination: web, protocol: .tcp, port: 8080)

        let open = CtlFlowExplainer.explain(flow, policies: [], profiles: profiles)
        XCTAssertTrue(open.allowed)
        XCTAssertEqual(open.steps.last, "ingress to shop/web: profile kns.shop ingress rule 0 (Allow) allows")

        let deny = try k8sPolicy(#"{"metadata": {"name": "default-deny", "namespace": "shop"}, "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}"#)
        let denied = CtlFlowExplainer.explain(flow, policies: [deny], profiles: profiles)
        XCTAssertFalse(denied.allowed)
        XCTAssertEqual(denied.steps.last, "ingress to shop/web: no rule of tier default's policies (shop/knp.default.default-deny) matches: denied by default")

        let allow = try k8sPolicy(#"""
        {"metadata": {"name": "allow-client", "namespace": "shop"}, "spec": {"podSelector": {"matchLabels": {"app": "web"}},
         "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "client"}}}], "ports": [{"port": "http"}]}]}}
        """#)
        let allowed = CtlFlowExplainer.explain(flow, policies: [deny, allow], profiles: profiles)
        XCTAssertTrue(allowed.allowed, "\(allowed.steps)")
        XCTAssertEqual(allowed.steps.last, "ingress to shop/web: policy shop/knp.default.allow-client ingress rule 0 (Allow) allows")
        // The named port resolves only to 8080; another port stays denied, as does another client.
        XCTAssertFalse(CtlFlowExplainer.explain(CtlFlow(source: client, destination: web, protocol: .tcp, port: 9090),
                                                policies: [deny, allow], profiles: profiles).allowed)
        XCTAssertFalse(CtlFlowExplainer.explain(CtlFlow(source: web, destination: web, protocol: .tcp, port: 8080),
                                                policies: [deny, allow], profiles: profiles).allowed)
    }

    func testCalicoDenyBeforeAllowAndPass() throws {
        let a = try pod("a", ns: "x", labels: ["role": "a"], ip: "10.0.0.1", node: "n")
        let b = try pod("b", ns: "x", labels: ["role": "b"], ip: "10.0.0.2", node: "n")
        let rule = { (action: RuleAction) in PolicyRule(action: action, protocol: .tcp, destination: EntityMatch(ports: [.number(80)])) }
        let deny = Policy(key: PolicyKey(name: "deny-80"), order: 10, selector: .all, types: PolicyTypes(ingress: false, egress: true),
                          egress: [rule(.deny)])
        let allow = Policy(key: PolicyKey(name: "allow-80"), order: 20, selector: .all, types: PolicyTypes(ingress: false, egress: true),
                           egress: [rule(.allow)])
        let flow = CtlFlow(source: a, destination: b, protocol: .tcp, port: 80)
        let v = CtlFlowExplainer.explain(flow, policies: [allow, deny], profiles: [:])
        XCTAssertFalse(v.allowed)
        XCTAssertEqual(v.steps, ["egress from x/a: policy deny-80 egress rule 0 (Deny) denies"])
        let pass = Policy(key: PolicyKey(name: "pass"), tier: "security", order: 1, selector: .all,
                          types: PolicyTypes(ingress: false, egress: true), egress: [PolicyRule(action: .pass)])
        let passed = CtlFlowExplainer.explain(flow, policies: [pass, allow], profiles: [:])
        XCTAssertEqual(passed.steps.first, "egress from x/a: policy pass egress rule 0 (Pass) passes to the next tier")
        XCTAssertEqual(passed.steps[1], "egress from x/a: policy allow-80 egress rule 0 (Allow) allows")
    }
}
