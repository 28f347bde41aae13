import XCTest
@testable import Core

final class ConversionPolicyTests: XCTestCase {
    private typealias Spec = K8sNetworkPolicySpec

    private func knp(_ spec: Spec, name: String = "np") -> K8sNetworkPolicy {
        K8sNetworkPolicy(metadata: ObjectMeta(name: name, namespace: "x"), spec: spec)
    }

    private func sel(_ text: String) -> SelectorExpr { try! SelectorExpr.parse(text) }

    func testEmptyPodSelectorDefaultDenyIngress() throws {
        let calico = try K8sPolicyConversion.calicoPolicy(knp(Spec()))
        XCTAssertEqual(calico.metadata.name, "knp.default.np")
        XCTAssertEqual(calico.metadata.namespace, "x")
        XCTAssertEqual(calico.spec.order, 1000)
        XCTAssertEqual(calico.spec.tier, "default")
        XCTAssertEqual(calico.spec.types, ["Ingress"])
        XCTAssertEqual(calico.spec.selector, "projectcalico.org/orchestrator == \"k8s\"")
        let policy = try K8sPolicyConversion.policy(knp(Spec()))
        XCTAssertEqual(policy.key, PolicyKey(namespace: "x", name: "knp.default.np"))
        XCTAssertEqual(policy.selector, sel("projectcalico.org/orchestrator == 'k8s' && projectcalico.org/namespace == 'x'"))
        XCTAssertEqual(policy.types, PolicyTypes(ingress: true, egress: false))
        XCTAssertTrue(policy.ingress.isEmpty)
    }

    func testPolicyTypesDefaults() throws {
        let egress = Spec(egress: [Spec.EgressRule()])
        XCTAssertEqual(try K8sPolicyConversion.calicoPolicy(knp(egress)).spec.types, ["Ingress", "Egress"])
        let explicit = Spec(policyTypes: ["Egress"])
        XCTAssertEqual(try K8sPolicyConversion.policy(knp(explicit)).types, PolicyTypes(ingress: false, egress: true))
    }

    func testPeersOredPodAndNamespaceAnded() throws {
        let spec = Spec(podSelector: LabelSelector(matchLabels: ["pod": "a"]), ingress: [Spec.IngressRule(from: [
            Spec.Peer(podSelector: LabelSelector(matchLabels: ["pod": "b"])),
            Spec.Peer(podSelector: LabelSelector(matchLabels: ["pod": "c"]),
                      namespaceSelector: LabelSelector(matchLabels: ["kubernetes.io/metadata.name": "y"])),
            Spec.Peer(namespaceSelector: LabelSelector()),
        ])])
        let policy = try K8sPolicyConversion.policy(knp(spec))
        XCTAssertEqual(policy.selector, sel("projectcalico.org/orchestrator == 'k8s' && pod == 'a' && projectcalico.org/namespace == 'x'"))
        XCTAssertEqual(policy.ingress.count, 3)
        XCTAssertEqual(policy.ingress.map(\.action), [.allow, .allow, .allow])
        XCTAssertEqual(policy.ingress[0].source.selector,
                       sel("projectcalico.org/orchestrator == 'k8s' && pod == 'b' && projectcalico.org/namespace == 'x'"))
        XCTAssertEqual(policy.ingress[1].source.selector,
                       sel("projectcalico.org/orchestrator == 'k8s' && pod == 'c' && pcns.kubernetes.io/metadata.name == 'y'"))
        XCTAssertEqual(policy.ingress[2].source.selector, sel("projectcalico.org/orchestrator == 'k8s'"))
        XCTAssertNil(policy.ingress[0].protocol)
    }

    func testPortsOneRulePerProtocolDefaultTCPEndPortNamed() throws {
        let spec = Spec(ingress: [Spec.IngressRule(ports: [
            Spec.Port(port: .int(80)),
            Spec.Port(protocol: "UDP", port: .int(53)),
            Spec.Port(port: .int(8000), endPort: 8080),
            Spec.Port(port: .string("serve-81-tcp")),
            Spec.Port(protocol: "SCTP"),
        ])])
        let calico = try K8sPolicyConversion.calicoPolicy(knp(spec))
        let rules = try XCTUnwrap(calico.spec.ingress)
        XCTAssertEqual(rules.map(\.protocol), [.string("TCP"), .string("UDP"), .string("SCTP")])
        XCTAssertEqual(rules[0].destination?.ports, [.number(80), .range(8000, 8080), .named("serve-81-tcp")])
        XCTAssertEqual(rules[1].destination?.ports, [.number(53)])
        XCTAssertNil(rules[2].destination)
        XCTAssertNil(rules[0].source)
        let policy = try K8sPolicyConversion.policy(knp(spec))
        XCTAssertEqual(policy.ingress[0].destination.ports, [.number(80), .range(8000, 8080), .named("serve-81-tcp")])
        XCTAssertEqual(policy.ingress[0].protocol, .tcp)
        XCTAssertEqual(policy.ingress[2].protocol, .sctp)
    }

    func testPeersCrossPorts() throws {
        let spec = Spec(egress: [Spec.EgressRule(to: [
            Spec.Peer(podSelector: LabelSelector(matchLabels: ["pod": "b"])),
            Spec.Peer(ipBlock: Spec.IPBlock(cidr: "10.0.0.0/8", except: ["10.1.0.0/16"])),
        ], ports: [Spec.Port(port: .int(80)), Spec.Port(protocol: "UDP", port: .int(81))])])
        let policy = try K8sPolicyConversion.policy(knp(spec))
        XCTAssertEqual(policy.egress.count, 4)
        XCTAssertEqual(policy.egress.map(\.protocol), [.tcp, .udp, .tcp, .udp])
        XCTAssertEqual(policy.egress[2].destination.nets.map(\.description), ["10.0.0.0/8"])
        XCTAssertEqual(policy.egress[2].destination.notNets.map(\.description), ["10.1.0.0/16"])
        XCTAssertNil(policy.egress[2].destination.selector)
        XCTAssertEqual(policy.egress[3].destination.ports, [.number(81)])
        XCTAssertEqual(policy.egress[0].destination.selector,
                       sel("projectcalico.org/orchestrator == 'k8s' && pod == 'b' && projectcalico.org/namespace == 'x'"))
    }

    func testIPBlockHostBitsMasked() throws {
        let spec = Spec(ingress: [Spec.IngressRule(from: [Spec.Peer(ipBlock: Spec.IPBlock(cidr: "10.0.0.7/24"))])])
        let rule = try XCTUnwrap(K8sPolicyConversion.calicoPolicy(knp(spec)).spec.ingress?.first)
        XCTAssertEqual(rule.source?.nets, ["10.0.0.0/24"])
        XCTAssertNil(rule.source?.notNets)
    }

    func testBadInputReported() {
        let badCIDR = Spec(ingress: [Spec.IngressRule(from: [Spec.Peer(ipBlock: Spec.IPBlock(cidr: "nope"))])])
        XCTAssertThrowsError(try K8sPolicyConversion.policy(knp(badCIDR)))
        let badOp = Spec(podSelector: LabelSelector(matchExpressions: [.init(key: "a", operator: "Near")]))
        XCTAssertThrowsError(try K8sPolicyConversion.policy(knp(badOp)))
        let badProto = Spec(ingress: [Spec.IngressRule(ports: [Spec.Port(protocol: "XTP")])])
        XCTAssertThrowsError(try K8sPolicyConversion.policy(knp(badProto)))
    }

    func testCalicoPolicyFields() throws {
        let spec = CalicoPolicySpec(order: 10, tier: nil, selector: "role == 'db'", ingress: [
            CalicoRule(action: "Deny", ipVersion: 4, protocol: .string("ICMP"), icmp: .init(type: 8, code: 0),
                       source: EntityRule(nets: ["10.0.0.0/8"], notNets: ["10.9.0.0/16"], selector: "app == 'x'",
                                          notSelector: "bad == 'y'")),
            CalicoRule(action: "Pass", notProtocol: .int(17), source: EntityRule(namespaceSelector: "team == 'a'")),
            CalicoRule(action: "Allow", protocol: .string("TCP"),
                       source: EntityRule(serviceAccounts: .init(names: ["sa1", "sa2"], selector: "k == 'v'")),
                       destination: EntityRule(ports: [.range(1, 100), .named("http")], notPorts: [.number(22)])),
            CalicoRule(action: "Log"),
        ], egress: [CalicoRule(action: "allow")])
        let policy = try Policy(calico: CalicoNetworkPolicy(metadata: ObjectMeta(name: "p", namespace: "ns"), spec: spec))
        XCTAssertEqual(policy.key.description, "ns/p")
        XCTAssertEqual(policy.order, 10)
        XCTAssertEqual(policy.tier, "default")
        XCTAssertEqual(policy.types, PolicyTypes(ingress: true, egress: true))
        XCTAssertEqual(policy.selector, sel("role == 'db' && projectcalico.org/namespace == 'ns'"))
        let r0 = policy.ingress[0]
        XCTAssertEqual(r0.action, .deny)
        XCTAssertEqual(r0.ipVersion, 4)
        XCTAssertEqual(r0.protocol, .icmp)
        XCTAssertEqual(r0.icmp, ICMPMatch(type: 8, code: 0))
        XCTAssertEqual(r0.source.selector, sel("app == 'x' && projectcalico.org/namespace == 'ns'"))
        XCTAssertEqual(r0.source.notSelector, sel("bad == 'y' && projectcalico.org/namespace == 'ns'"))
        XCTAssertEqual(r0.source.notNets.map(\.description), ["10.9.0.0/16"])
        XCTAssertEqual(policy.ingress[1].action, .pass)
        XCTAssertEqual(policy.ingress[1].notProtocol, .udp)
        XCTAssertEqual(policy.ingress[1].source.selector, sel("pcns.team == 'a'"))
        XCTAssertEqual(policy.ingress[2].source.selector,
                       sel("projectcalico.org/serviceaccount in {'sa1', 'sa2'} && pcsa.k == 'v' && projectcalico.org/namespace == 'ns'"))
        XCTAssertEqual(policy.ingress[2].destination.ports, [.range(1, 100), .named("http")])
        XCTAssertEqual(policy.ingress[2].destination.notPorts, [.number(22)])
        XCTAssertEqual(policy.ingress[3].action, .log)
        XCTAssertEqual(policy.egress[0].action, .allow)
    }

    func testGlobalPolicy() throws {
        let spec = CalicoPolicySpec(selector: "all()", types: ["Egress"], egress: [
            CalicoRule(action: "Allow", destination: EntityRule(selector: "app == 'dns'")),
        ], namespaceSelector: "env == 'prod'")
        let policy = try Policy(global: GlobalNetworkPolicy(metadata: ObjectMeta(name: "g"), spec: spec))
        XCTAssertNil(policy.key.namespace)
        XCTAssertNil(policy.order)
        XCTAssertEqual(policy.selector, sel("pcns.env == 'prod'"))
        XCTAssertEqual(policy.types, PolicyTypes(ingress: false, egress: true))
        XCTAssertEqual(policy.egress[0].destination.selector, sel("app == 'dns'"))
    }

    func testCalicoBadInputs() {
        func convert(_ rule: CalicoRule, selector: String? = nil) throws {
            _ = try Policy(global: GlobalNetworkPolicy(metadata: ObjectMeta(name: "g"),
                                                       spec: CalicoPolicySpec(selector: selector, ingress: [rule])))
        }
        XCTAssertThrowsError(try convert(CalicoRule(action: "Allow"), selector: "a == "))
        XCTAssertThrowsError(try convert(CalicoRule(action: "Maybe")))
        XCTAssertThrowsError(try convert(CalicoRule(action: "Allow", ipVersion: 5)))
        XCTAssertThrowsError(try convert(CalicoRule(action: "Allow", protocol: .string("foo"))))
        XCTAssertThrowsError(try convert(CalicoRule(action: "Allow", source: EntityRule(nets: ["1.2.3.4/40"]))))
        XCTAssertThrowsError(try convert(CalicoRule(action: "Allow", icmp: .init(code: 3))))
        XCTAssertThrowsError(try convert(CalicoRule(action: "Allow", source: EntityRule(selector: "has(")))) { error in
            guard case PolicyConversionError.badSelector(let field, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(field, "ingress[0].source.selector")
        }
    }

    func testPolicyOrdering() {
        func p(_ name: String, _ order: Double?) -> Policy {
            Policy(key: PolicyKey(name: name), order: order, selector: .all, types: PolicyTypes(ingress: true, egress: false))
        }
        let sorted = [p("b", nil), p("z", 1), p("a", nil), p("c", 1), p("d", 0.5)].sorted(by: Policy.appliesBefore)
        XCTAssertEqual(sorted.map(\.key.name), ["d", "c", "z", "a", "b"])
    }
}
