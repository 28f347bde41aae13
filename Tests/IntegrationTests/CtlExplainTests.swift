import Foundation
import XCTest

/// `calico-node ctl explain` (the built binary) against the development API server, with pods
/// posted to the API and policies created by kubectl and by `ctl apply`.
final class CtlExplainTests: CtlServerTestCase {
    override class var tmpPrefix: String { "ctlexpl" }

    private func post(_ path: String, _ body: String) throws {
        let r = try server!.curl(path, method: "POST", body: body)
        XCTAssertEqual(r.code, 201, r.body)
    }

    private func explain(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        try ctl(["explain"] + args)
    }

    func testExplainAgainstTheAPI() throws {
        try post("/api/v1/namespaces", #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shop","labels":{"team":"a"}}}"#)
        try post("/api/v1/namespaces", #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"ops","labels":{"team":"ops"}}}"#)
        for (ns, body) in [
            ("shop", #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"client","namespace":"shop","labels":{"app":"client"}},"spec":{"nodeName":"node-1","containers":[{"name":"c","image":"c"}]},"status":{"podIP":"10.244.1.5"}}"#),
            ("shop", #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"shop","labels":{"app":"web"}},"spec":{"nodeName":"node-2","containers":[{"name":"w","image":"w","ports":[{"name":"http","containerPort":8080}]}]},"status":{"podIP":"10.244.2.7"}}"#),
            ("ops", #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"probe","namespace":"ops"},"spec":{"nodeName":"node-1","containers":[{"name":"p","image":"p"}]},"status":{"podIP":"10.244.1.9"}}"#),
            ("shop", #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"pending","namespace":"shop"},"spec":{"containers":[{"name":"c","image":"c"}]}}"#),
        ] {
            try post("/api/v1/namespaces/\(ns)/pods", body)
        }

        // No policy: the namespace profile allows both ways.
        let open = try explain(["--from", "shop/client", "--to", "shop/web", "--port", "8080"])
        XCTAssertEqual(open.status, 0, open.err)
        XCTAssertTrue(open.out.hasPrefix("flow: shop/client 10.244.1.5 (node node-1) -> shop/web 10.244.2.7 (node node-2), TCP/8080\n"), open.out)
        XCTAssertTrue(open.out.contains("\ningress to shop/web: allowed by profile kns.shop rule 0\n"), open.out)
        XCTAssertTrue(open.out.hasSuffix("shop/client -> shop/web TCP/8080: ALLOWED\n"), open.out)

        // kubectl: default deny for ingress in shop, and an allow for the client on the named port.
        let yaml = tmp + "/policies.yaml"
        try """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: default-deny, namespace: shop}
        spec: {podSelector: {}, policyTypes: [Ingress]}
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: allow-client, namespace: shop}
        spec:
          podSelector: {matchLabels: {app: web}}
          ingress: [{from: [{podSelector: {matchLabels: {app: client}}}], ports: [{port: http}]}]
        """.write(toFile: yaml, atomically: true, encoding: .utf8)
        let created = try server!.kubectl(["create", "-f", yaml])
        XCTAssertEqual(created.status, 0, created.err)

        let allowed = try explain(["--from", "shop/client", "--to", "shop/web", "--port", "8080"])
        XCTAssertEqual(allowed.status, 0, allowed.err)
        XCTAssertTrue(allowed.out.contains("\ningress to shop/web: allowed by policy shop/knp.default.allow-client (tier default) rule 0\n"),
                      allowed.out)
        let otherPort = try explain(["--from", "shop/client", "--to", "shop/web", "--port", "9090"])
        XCTAssertEqual(otherPort.status, 0, "a denied flow is an answer, not an error: \(otherPort.err)")
        XCTAssertTrue(otherPort.out.contains("ingress to shop/web: denied: selected by shop/knp.default.allow-client, "
                                             + "shop/knp.default.default-deny and no rule matched (end of tier default)"), otherPort.out)
        XCTAssertTrue(otherPort.out.hasSuffix("TCP/9090: DENIED\n"), otherPort.out)
        let ping = try explain(["ops/probe", "shop/web", "--protocol", "icmp"])
        XCTAssertEqual(ping.status, 0, ping.err)
        XCTAssertTrue(ping.out.hasSuffix("ops/probe -> shop/web ICMP type 8 code 0: DENIED\n"), ping.out)

        // ctl apply: a GlobalNetworkPolicy that denies the client's egress to 8443, read as JSON.
        let gnp = try ctl(["apply", "-f", "-"], stdin: """
        apiVersion: projectcalico.org/v3
        kind: GlobalNetworkPolicy
        metadata: {name: no-8443}
        spec:
          order: 10
          selector: app == 'client'
          types: [Egress]
          egress: [{action: Deny, protocol: TCP, destination: {ports: [8443]}}, {action: Allow}]
        """)
        XCTAssertEqual(gnp.status, 0, gnp.err)
        let json = try explain(["--from", "shop/client", "--to", "shop/web", "--port", "8443", "-o", "json"])
        XCTAssertEqual(json.status, 0, json.err)
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any], json.out)
        XCTAssertEqual(doc["allowed"] as? Bool, false)
        let egress = try XCTUnwrap(doc["egress"] as? [String: Any])
        let decided = try XCTUnwrap(egress["decidedBy"] as? [String: Any])
        XCTAssertEqual(decided["policy"] as? String, "no-8443")
        XCTAssertEqual(decided["rule"] as? Int, 0)
        XCTAssertEqual(decided["action"] as? String, "Deny")
        XCTAssertEqual(egress["summary"] as? String, "egress from shop/client: denied by policy no-8443 (tier default) rule 0")

        // Errors name what is wrong and exit non-zero.
        let missing = try explain(["--from", "shop/client", "--to", "shop/nope", "--port", "80"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.err.contains("pod shop/nope not found"), missing.err)
        let pending = try explain(["--from", "shop/pending", "--to", "shop/web", "--port", "80"])
        XCTAssertEqual(pending.status, 2)
        XCTAssertTrue(pending.err.contains("pod shop/pending is not scheduled"), pending.err)
        let noPort = try explain(["--from", "shop/client", "--to", "shop/web"])
        XCTAssertNotEqual(noPort.status, 0)
        XCTAssertTrue(noPort.err.contains("--port is required for TCP"), noPort.err)
    }

    /// `ctl endpoint`: a pod's tiers, policies and profiles in order and the kernel rules that
    /// apply to it, as felix on its node renders them.
    func testEndpointViewAgainstTheAPI() throws {
        try post("/api/v1/namespaces", #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shop"}}"#)
        try post("/api/v1/namespaces/shop/pods", #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"shop","labels":{"app":"web"}},"spec":{"nodeName":"node-2","containers":[{"name":"w","image":"w"}]},"status":{"podIP":"10.244.2.7"}}"#)
        try post("/api/v1/namespaces/shop/pods", #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"pending","namespace":"shop"},"spec":{"containers":[{"name":"c","image":"c"}]}}"#)
        try post("/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies", #"{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"default-deny","namespace":"shop"},"spec":{"podSelector":{},"policyTypes":["Ingress"]}}"#)

        let text = try ctl(["endpoint", "shop/web"])
        XCTAssertEqual(text.status, 0, text.err)
        XCTAssertTrue(text.out.hasPrefix("endpoint shop/web on node node-2, interface cali"), text.out)
        XCTAssertTrue(text.out.contains("ingress (to the workload):\n  tier default: shop/knp.default.default-deny\n  profiles: kns.shop\n"), text.out)
        XCTAssertTrue(text.out.contains("egress (from the workload):\n  no policy: the profiles decide\n"), text.out)
        XCTAssertTrue(text.out.contains(" jump cali-pi-shop_knp.default.default-deny"), text.out)

        let json = try ctl(["endpoint", "shop/web", "-o", "json"])
        XCTAssertEqual(json.status, 0, json.err)
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any], json.out)
        XCTAssertEqual(doc["endpoint"] as? String, "shop/web")
        XCTAssertEqual(doc["addresses"] as? [String], ["10.244.2.7/32"])
        let ingress = try XCTUnwrap(doc["ingress"] as? [String: Any])
        XCTAssertEqual(ingress["chain"] as? String, "cali-to-wl")
        XCTAssertEqual((ingress["endpointRules"] as? [String])?.count, 2)
        XCTAssertEqual((ingress["endpointChain"] as? String)?.hasPrefix("cali-tw-cali"), true)

        for (pod, message) in [("shop/nope", "pod shop/nope not found"), ("shop/pending", "pod shop/pending is not scheduled")] {
            let failed = try ctl(["endpoint", pod])
            XCTAssertEqual(failed.status, 2)
            XCTAssertTrue(failed.err.contains(message), failed.err)
        }
    }
}

