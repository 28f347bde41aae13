import XCTest
import Core
@testable import Policy

final class CalcTests: XCTestCase {
    private typealias F = Fixture

    private func inputs(_ endpoints: [WorkloadEndpoint], _ policies: [Policy] = [], profiles: [Profile] = [],
                        sets: [NetworkSetEntry] = []) -> CalcInputs {
        CalcInputs(nodeName: "n1", endpoints: Dictionary(uniqueKeysWithValues: endpoints.map { ($0.key, $0) }),
                   profiles: Dictionary(uniqueKeysWithValues: profiles.map { ($0.name, $0) }),
                   policies: Dictionary(uniqueKeysWithValues: policies.map { ($0.key, $0) }),
                   networkSets: Dictionary(uniqueKeysWithValues: sets.map { ($0.key, $0) }))
    }

    func testOrderingGlobalAndNamespacedByOrderThenName() {
        let a = F.endpoint("a", ip: "10.0.0.1")
        let policies = [
            F.policy("zeta", order: 10, ingress: []), F.policy("alpha", ns: "x", order: 10, ingress: []),
            F.policy("late", ingress: []), F.policy("first", ns: "x", order: 1, ingress: []),
            F.policy("other-tier", tier: "security", ingress: []), F.policy("egress-only", egress: []),
        ]
        let state = DataplaneState.compute(from: inputs([a], policies))
        let plan = state.endpoints[a.interfaceName]!
        XCTAssertEqual(plan.ingress.map(\.name), ["security", "default"])
        XCTAssertEqual(plan.ingress[1].policies.map(\.description), ["x/first", "x/alpha", "zeta", "late"])
        XCTAssertEqual(plan.egress.map(\.policies), [[PolicyKey(name: "egress-only")]])
        XCTAssertEqual(state.policies.count, 6)
    }

    func testNamespacedPolicyOnlyInItsNamespaceAndProfilesFallback() {
        let a = F.endpoint("a", ns: "x", ip: "10.0.0.1"), b = F.endpoint("b", ns: "y", ip: "10.0.0.2")
        let state = DataplaneState.compute(from: inputs([a, b], [F.policy("deny", ns: "x", ingress: [])],
                                                        profiles: [F.namespace("x"), F.namespace("y")]))
        XCTAssertEqual(state.endpoints[a.interfaceName]?.ingress.count, 1)
        XCTAssertEqual(state.endpoints[b.interfaceName]?.ingress, [])
        XCTAssertEqual(state.endpoints[b.interfaceName]?.profiles, ["kns.y"])
        XCTAssertEqual(Set(state.profiles.keys), ["kns.x", "kns.y"])
    }

    func testOnlyLocalEndpointsPlannedButSetsSpanCluster() {
        let a = F.endpoint("a", ip: "10.0.0.1", labels: ["pod": "a"])
        let remote = F.endpoint("r", node: "n2", ip: "10.0.9.9", labels: ["pod": "b"])
        let p = F.policy("p", selector: "pod == 'a'", ingress: [F.allowFrom("pod == 'b'")])
        let state = DataplaneState.compute(from: inputs([a, remote], [p]))
        XCTAssertEqual(Array(state.endpoints.keys), [a.interfaceName])
        XCTAssertEqual(state.ipSets[.selector(F.sel("pod == 'b'"))]?.nets, [IPNet(parsing: "10.0.9.9")!])
    }

    func testSelectorsOverNamespaceLabelsAndNetworkSets() {
        let a = F.endpoint("a", ns: "x", ip: "10.0.0.1"), b = F.endpoint("b", ns: "y", ip: "10.0.0.2")
        let ns = NetworkSetEntry(networkSet: NetworkSet(metadata: ObjectMeta(name: "ext", namespace: "y", labels: ["role": "ext"]),
                                                        spec: NetworkSetSpec(nets: ["192.168.0.0/16"])))
        let global = NetworkSetEntry(globalNetworkSet: GlobalNetworkSet(metadata: ObjectMeta(name: "g", labels: ["role": "ext"]),
                                                                        spec: NetworkSetSpec(nets: ["8.8.8.8"])))
        let p = F.policy("p", ingress: [F.allowFrom("pcns.team == 'blue'"), F.allowFrom("role == 'ext'"),
                                        F.allowFrom("global()")])
        let state = DataplaneState.compute(from: inputs([a, b], [p], profiles: [F.namespace("x"), F.namespace("y", labels: ["team": "blue"])],
                                                        sets: [ns, global]))
        XCTAssertEqual(state.ipSets[.selector(F.sel("pcns.team == 'blue'"))]?.nets.map(\.description).sorted(),
                       ["10.0.0.2/32", "192.168.0.0/16"])
        XCTAssertEqual(state.ipSets[.selector(F.sel("role == 'ext'"))]?.nets.map(\.description).sorted(), ["192.168.0.0/16", "8.8.8.8/32"])
        XCTAssertEqual(state.ipSets[.selector(.global)]?.nets.map(\.description), ["8.8.8.8/32"])
    }

    func testNamedPortsResolvedPerEndpoint() {
        let a = F.endpoint("a", ip: "10.0.0.1", ports: [EndpointPort(name: "http", protocol: .tcp, port: 8080)])
        let b = F.endpoint("b", ip: "10.0.0.2", ports: [EndpointPort(name: "http", protocol: .tcp, port: 9090),
                                                         EndpointPort(name: "http", protocol: .udp, port: 53)])
        let c = F.endpoint("c", ip: "10.0.0.3")
        let p = F.policy("p", ingress: [F.allowFrom("all()", ports: [.named("http")], proto: .tcp)])
        let state = DataplaneState.compute(from: inputs([a, b, c], [p]))
        let set = state.ipSets[.namedPort(.all, .tcp, "http")]
        XCTAssertEqual(set?.ports, [IPPortMember(address: IPNet(parsing: "10.0.0.1")!, protocol: .tcp, port: 8080),
                                    IPPortMember(address: IPNet(parsing: "10.0.0.2")!, protocol: .tcp, port: 9090)])
    }

    func testUnusedPoliciesAndSetsLeftOut() {
        let a = F.endpoint("a", ip: "10.0.0.1", labels: ["pod": "a"])
        let p = F.policy("p", selector: "pod == 'z'", ingress: [F.allowFrom("pod == 'b'")])
        let state = DataplaneState.compute(from: inputs([a], [p]))
        XCTAssertTrue(state.policies.isEmpty)
        XCTAssertTrue(state.ipSets.isEmpty)
    }

    func testIncrementalMatchesFullOnScenario() {
        let full = inputs([F.endpoint("a", ip: "10.0.0.1", labels: ["pod": "a"]), F.endpoint("b", ns: "y", ip: "10.0.0.2")],
                          [F.policy("p", ingress: [F.allowFrom("pod == 'a'")])], profiles: [F.namespace("x"), F.namespace("y")])
        let calc = PolicyCalculator(inputs: full)
        XCTAssertEqual(calc.state, DataplaneState.compute(from: full))
        XCTAssertEqual(calc.inputs, full)
    }
}
