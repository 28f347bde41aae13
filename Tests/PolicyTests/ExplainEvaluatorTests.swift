import Foundation
import XCTest
import Core
@testable import Policy

/// `ctl explain`'s evaluator over snapshots of real API objects, through felix's engine.
final class ExplainEvaluatorTests: XCTestCase {
    private func obj<T: Decodable>(_ json: String, as type: T.Type = T.self) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(json.utf8))
    }

    private func pod(_ name: String, ns: String, node: String?, ip: String?, labels: [String: String] = [:],
                     namedPort: (String, Int)? = nil, hostNetwork: Bool = false) throws -> FelixUpdate {
        var spec: [String: Any] = ["containers": [["name": "c", "ports": namedPort.map { [["name": $0.0, "containerPort": $0.1]] } ?? []]]]
        if let node { spec["nodeName"] = node }
        if hostNetwork { spec["hostNetwork"] = true }
        var object: [String: Any] = ["metadata": ["name": name, "namespace": ns, "labels": labels], "spec": spec]
        if let ip { object["status"] = ["podIP": ip] }
        return .pod(try JSONDecoder().decode(Pod.self, from: JSONSerialization.data(withJSONObject: object)))
    }

    private func namespace(_ name: String, labels: [String: String] = [:]) -> FelixUpdate {
        .namespace(Namespace(metadata: ObjectMeta(name: name, labels: labels.merging(["kubernetes.io/metadata.name": name]) { a, _ in a })))
    }

    private func knp(_ json: String) throws -> FelixUpdate { .k8sPolicy(try obj(json)) }
    private func gnp(_ json: String) throws -> FelixUpdate { .globalPolicy(try obj(json)) }

    /// client (shop, node-1) and web (shop, node-2) with a named port http=8080.
    private func shop(_ more: [FelixUpdate] = []) throws -> ExplainSnapshot {
        ExplainSnapshot(updates: [
            namespace("shop", labels: ["team": "a"]),
            try pod("client", ns: "shop", node: "node-1", ip: "10.244.1.5", labels: ["app": "client"]),
            try pod("web", ns: "shop", node: "node-2", ip: "10.244.2.7", labels: ["app": "web"], namedPort: ("http", 8080)),
        ] + more)
    }

    private let denyAll = #"{"metadata": {"name": "deny-all", "namespace": "shop"}, "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}"#
    private let allowClient = #"""
    {"metadata": {"name": "allow-client", "namespace": "shop"}, "spec": {"podSelector": {"matchLabels": {"app": "web"}},
     "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "client"}}}], "ports": [{"port": "http"}]}]}}
    """#

    func testProfilesAllowWhenNoPolicySelects() throws {
        let (flow, r) = try shop().explain(from: "shop/client", to: "shop/web", protocol: .tcp, destinationPort: 8080)
        XCTAssertTrue(r.allowed)
        XCTAssertEqual(flow.sourceAddress, IPNet(parsing: "10.244.1.5/32"))
        XCTAssertEqual(r.egress.node, "node-1")
        XCTAssertEqual(r.ingress.node, "node-2")
        XCTAssertEqual(r.egress.trace.first?.kind, .noPolicy)
        XCTAssertEqual(r.ingress.decidedBy, ExplainStep(kind: .profileRule, profile: "kns.shop", rule: 0, action: "Allow",
                                                         text: "profile kns.shop ingress rule 0 (Allow) allows"))
        XCTAssertEqual(r.ingress.summary, "ingress to shop/web: allowed by profile kns.shop rule 0")
    }

    func testDefaultDenyThenNamedPortAllow() throws {
        let denied = try shop([knp(denyAll)]).explain(from: "shop/client", to: "shop/web", protocol: .tcp, destinationPort: 8080).result
        XCTAssertTrue(denied.egress.allowed)
        XCTAssertFalse(denied.allowed)
        XCTAssertEqual(denied.ingress.decidedBy.kind, .endOfTier)
        XCTAssertEqual(denied.ingress.summary,
                       "ingress to shop/web: denied: selected by shop/knp.default.deny-all and no rule matched (end of tier default)")
        XCTAssertEqual(denied.ingress.trace.map(\.kind), [.policyNoMatch, .endOfTier])

        let snap = try shop([knp(denyAll), knp(allowClient)])
        let ok = try snap.explain(from: "shop/client", to: "shop/web", protocol: .tcp, destinationPort: 8080).result
        XCTAssertTrue(ok.allowed, "\(ok.ingress.trace)")
        XCTAssertEqual(ok.ingress.summary, "ingress to shop/web: allowed by policy shop/knp.default.allow-client (tier default) rule 0")
        // Same order 1000: allow-client sorts before deny-all by name, so deny-all is never reached.
        XCTAssertEqual(ok.ingress.trace.count, 1)
        // The named port resolves to 8080 only; UDP, another port and another client stay denied.
        XCTAssertFalse(try snap.explain(from: "shop/client", to: "shop/web", protocol: .tcp, destinationPort: 9090).result.allowed)
        XCTAssertFalse(try snap.explain(from: "shop/client", to: "shop/web", protocol: .udp, destinationPort: 8080).result.allowed)
        XCTAssertFalse(try snap.explain(from: "shop/web", to: "shop/web", protocol: .tcp, destinationPort: 8080).result.allowed)
    }

    func testTiersOrderPassLogAndDeny() throws {
        let pass = try gnp(#"""
        {"metadata": {"name": "sec-pass"}, "spec": {"tier": "security", "order": 1, "selector": "all()", "types": ["Egress"],
         "egress": [{"action": "Log"}, {"action": "Pass", "protocol": "TCP", "destination": {"ports": [80]}}]}}
        """#)
        let deny = try gnp(#"""
        {"metadata": {"name": "sec-deny"}, "spec": {"tier": "security", "order": 2, "selector": "all()", "types": ["Egress"],
         "egress": [{"action": "Deny"}]}}
        """#)
        let allow = try gnp(#"""
        {"metadata": {"name": "allow-web"}, "spec": {"order": 5, "selector": "app == 'client'", "types": ["Egress"],
         "egress": [{"action": "Allow", "destination": {"selector": "app == 'web'"}}]}}
        """#)
        let snap = try shop([pass, deny, allow])
        let r80 = try snap.explain(from: "shop/client", to: "shop/web", protocol: .tcp, destinationPort: 80).result
        XCTAssertTrue(r80.egress.allowed)
        XCTAssertEqual(r80.egress.trace.map(\.text), [
            "policy sec-pass egress rule 0 (Log) logs and goes on",
            "policy sec-pass egress rule 1 (Pass) passes to the next tier",
            "policy sec-deny skipped: an earlier policy of tier security passed",
            "policy allow-web egress rule 0 (Allow) allows",
        ])
        XCTAssertEqual(r80.egress.decidedBy.tier, "default")
        let r81 = try snap.explain(from: "shop/client", to: "shop/web", protocol: .tcp, destinationPort: 81).result
        XCTAssertFalse(r81.egress.allowed)
        XCTAssertEqual(r81.egress.summary, "egress from shop/client: denied by policy sec-deny (tier security) rule 0")
        // web is selected by the security tier too, but only for egress: its ingress is the profile's.
        XCTAssertTrue(r81.ingress.allowed)
        XCTAssertEqual(r81.ingress.decidedBy.profile, "kns.shop")
    }

    func testSourcePortsICMPAndNets() throws {
        let rules = try gnp(#"""
        {"metadata": {"name": "in"}, "spec": {"selector": "app == 'web'", "types": ["Ingress"], "ingress": [
          {"action": "Allow", "protocol": "TCP", "source": {"ports": ["1000:2000"]}},
          {"action": "Allow", "protocol": "ICMP", "icmp": {"type": 8}},
          {"action": "Allow", "protocol": "UDP", "source": {"nets": ["10.244.1.0/24"]}, "destination": {"notPorts": [53]}}]}}
        """#)
        let snap = try shop([rules])
        let unknown = try snap.explain(from: "shop/client", to: "shop/web", protocol: .tcp, destinationPort: 80).result
        XCTAssertFalse(unknown.ingress.allowed)
        XCTAssertEqual(unknown.ingress.trace.first?.kind, .note)
        XCTAssertTrue(try snap.explain(from: "shop/client", to: "shop/web", protocol: .tcp, sourcePort: 1500, destinationPort: 80).result.allowed)
        XCTAssertFalse(try snap.explain(from: "shop/client", to: "shop/web", protocol: .tcp, sourcePort: 2500, destinationPort: 80).result.allowed)
        let ping = try snap.explain(from: "shop/client", to: "shop/web", protocol: .icmp, icmpType: 8, icmpCode: 0).result
        XCTAssertEqual(ping.ingress.decidedBy.rule, 1)
        XCTAssertFalse(try snap.explain(from: "shop/client", to: "shop/web", protocol: .icmp, icmpType: 0, icmpCode: 0).result.allowed)
        XCTAssertTrue(try snap.explain(from: "shop/client", to: "shop/web", protocol: .udp, destinationPort: 5353).result.allowed)
        XCTAssertFalse(try snap.explain(from: "shop/client", to: "shop/web", protocol: .udp, destinationPort: 53).result.allowed)
    }

    func testNamespaceSelectorThroughProfileLabels() throws {
        let other = try pod("probe", ns: "ops", node: "node-1", ip: "10.244.1.9")
        let allowOps = try knp(#"""
        {"metadata": {"name": "from-ops", "namespace": "shop"}, "spec": {"podSelector": {},
         "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "ops"}}}]}]}}
        """#)
        let snap = try shop([namespace("ops", labels: ["team": "ops"]), other, allowOps])
        XCTAssertTrue(try snap.explain(from: "ops/probe", to: "shop/web", protocol: .tcp, destinationPort: 1).result.allowed)
        XCTAssertFalse(try snap.explain(from: "shop/client", to: "shop/web", protocol: .tcp, destinationPort: 1).result.allowed)
    }

    func testErrorsSayWhatIsWrong() throws {
        let snap = try shop([
            pod("pending", ns: "shop", node: nil, ip: nil),
            pod("noip", ns: "shop", node: "node-1", ip: nil),
            pod("host", ns: "shop", node: "node-1", ip: "192.0.2.1", hostNetwork: true),
            pod("v6", ns: "shop", node: "node-1", ip: "fd00::5"),
        ])
        func error(_ from: String, _ to: String) -> ExplainError? {
            do { _ = try snap.explain(from: from, to: to, protocol: .tcp, destinationPort: 80); return nil } catch { return error }
        }
        XCTAssertEqual(error("shop", "shop/web"), .badPodName("shop"))
        XCTAssertEqual(error("shop/nope", "shop/web"), .podNotFound("shop/nope"))
        XCTAssertEqual(error("shop/client", "shop/pending"), .notScheduled("shop/pending"))
        XCTAssertEqual(error("shop/noip", "shop/web"), .noEndpoint("shop/noip", node: "node-1"))
        XCTAssertEqual(error("shop/client", "shop/host"), .noEndpoint("shop/host", node: "node-1"))
        XCTAssertEqual(error("shop/client", "shop/v6"), .noAddress("shop/v6", ipVersion: nil))
        XCTAssertTrue(ExplainError.podNotFound("a/b").description.contains("kubectl get pods"))
    }

    func testTextAndJSONReports() throws {
        let (flow, r) = try shop([knp(denyAll)]).explain(from: "shop/client", to: "shop/web", protocol: .tcp, destinationPort: 8080)
        let text = ExplainReport.text(flow, r)
        XCTAssertTrue(text.hasPrefix("flow: shop/client 10.244.1.5 (node node-1) -> shop/web 10.244.2.7 (node node-2), TCP/8080\n"), text)
        XCTAssertTrue(text.contains("\negress from shop/client: allowed by profile kns.shop rule 0\n"), text)
        XCTAssertTrue(text.hasSuffix("shop/client -> shop/web TCP/8080: DENIED\n"), text)
        let json = try JSONSerialization.jsonObject(with: Data(try ExplainReport.json(flow, r).utf8)) as? [String: Any]
        XCTAssertEqual(json?["allowed"] as? Bool, false)
        let ingress = json?["ingress"] as? [String: Any]
        XCTAssertEqual((ingress?["decidedBy"] as? [String: Any])?["kind"] as? String, "end-of-tier")
        XCTAssertEqual((json?["flow"] as? [String: Any])?["destinationPort"] as? Int, 8080)
    }

    func testLoadListsWhatFelixWatches() async throws {
        let api = InMemoryKubeAPI()
        _ = try await api.create(Namespace(metadata: ObjectMeta(name: "shop")))
        guard case .pod(let client) = try pod("client", ns: "shop", node: "node-1", ip: "10.244.1.5") else { return XCTFail() }
        _ = try await api.create(client)
        let np: K8sNetworkPolicy = try obj(denyAll)
        _ = try await api.create(np)
        let snap = try await ExplainSnapshot.load(api: api)
        XCTAssertNotNil(snap.pod("shop/client"))
        XCTAssertEqual(snap.updates.count, 3)
        let r = try snap.explain(from: "shop/client", to: "shop/client", protocol: .tcp, destinationPort: 1).result
        XCTAssertEqual(r.ingress.decidedBy.kind, .endOfTier)
    }
}
