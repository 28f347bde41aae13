import Core
import Foundation
import XCTest

/// The Kubernetes network-policy conformance cases (after the upstream e2e suite): namespaces
/// x, y, z with pods a, b, c each, servers on TCP and UDP 80 and 81 (named serve-<port>-<proto>),
/// and for every case the whole reachability matrix, probed with real packets through the
/// nftables ruleset felix programs. Root only.
final class ConformanceNetworkPolicyTests: XCTestCase {
    typealias Spec = K8sNetworkPolicySpec
    typealias Ref = FelixTestCluster.PodRef
    static let namespaces = ["x", "y", "z"]
    static let podNames = ["a", "b", "c"]
    static var all: [Ref] { namespaces.flatMap { ns in podNames.map { Ref(namespace: ns, name: $0) } } }

    private var cluster: FelixTestCluster!

    override func setUp() async throws {
        guard getuid() == 0 else { throw DevServerError("needs root for network namespaces and nftables: run the tests as root") }
        cluster = try FelixTestCluster(tag: "cf")
        for (i, ns) in Self.namespaces.enumerated() {
            try await cluster.ensureNamespace(ns, labels: ["ns": ns])
            for (j, pod) in Self.podNames.enumerated() {
                try await cluster.addPod(namespace: ns, name: pod, ip: "10.77.\(i).\(j + 1)", labels: ["pod": pod])
            }
        }
        cluster.startFelix()
        try await cluster.waitFelixReady()
        try await Task.sleep(for: .milliseconds(300)) // servers up
    }

    override func tearDown() async throws {
        await cluster?.tearDown()
        cluster = nil
    }

    // MARK: machinery

    private static func ref(_ text: String) -> Ref {
        let parts = text.split(separator: "/").map(String.init)
        return Ref(namespace: parts[0], name: parts[1])
    }

    private func knp(_ name: String, _ ns: String, _ spec: Spec) -> K8sNetworkPolicy {
        K8sNetworkPolicy(metadata: ObjectMeta(name: name, namespace: ns), spec: spec)
    }

    private func apply(_ policies: [K8sNetworkPolicy]) async throws {
        try await cluster.change { for p in policies { _ = try await cluster.api.create(p) } }
    }

    private func remove(_ policies: [K8sNetworkPolicy]) async throws {
        try await cluster.change {
            for p in policies { try await cluster.api.delete(K8sNetworkPolicy.self, name: p.metadata.name, namespace: p.metadata.namespace) }
        }
    }

    /// Probes the full 9x9 matrix on `port`/`proto` and compares with `expected` (self always allowed).
    private func assertMatrix(_ what: String, port: Int = 80, proto: FelixTestCluster.Proto = .tcp,
                              file: StaticString = #filePath, line: UInt = #line,
                              _ expected: (Ref, Ref) -> Bool) throws {
        let got = try cluster.reachability(from: Self.all, to: Self.all, port: port, proto: proto)
        var wrong: [String] = []
        for s in Self.all {
            for d in Self.all {
                let want = s == d || expected(s, d)
                let have = got[s]?[d] ?? false
                if want != have { wrong.append("\(s)->\(d) \(have ? "allowed" : "denied") (want \(want ? "allowed" : "denied"))") }
            }
        }
        XCTAssertTrue(wrong.isEmpty, "\(what) \(proto)/\(port): \(wrong.count) wrong: \(wrong.joined(separator: ", "))", file: file, line: line)
    }

    private func sel(_ labels: [String: String]) -> LabelSelector { LabelSelector(matchLabels: labels) }
    private func port(_ p: Int, _ proto: String = "TCP", end: Int? = nil) -> Spec.Port { Spec.Port(protocol: proto, port: .int(p), endPort: end) }
    private func named(_ n: String, _ proto: String = "TCP") -> Spec.Port { Spec.Port(protocol: proto, port: .string(n)) }

    // MARK: cases

    func testNoPolicyAllowsEverything() throws {
        try assertMatrix("no policy") { _, _ in true }
        try assertMatrix("no policy", proto: .udp) { _, _ in true }
    }

    func testDefaultDenyIngressThenDeleted() async throws {
        let deny = knp("deny", "x", Spec())
        try await apply([deny])
        try assertMatrix("default deny ingress") { _, d in d.namespace != "x" }
        try assertMatrix("default deny ingress", port: 81, proto: .udp) { _, d in d.namespace != "x" }
        try await remove([deny])
        try assertMatrix("policy deleted") { _, _ in true }
    }

    func testDefaultDenyAll() async throws {
        try await apply([knp("deny-all", "x", Spec(policyTypes: ["Ingress", "Egress"]))])
        try assertMatrix("default deny all") { s, d in s.namespace != "x" && d.namespace != "x" }
    }

    func testPodSelector() async throws {
        try await apply([knp("allow-b", "x", Spec(podSelector: sel(["pod": "a"]), ingress: [Spec.IngressRule(from: [Spec.Peer(podSelector: sel(["pod": "b"]))])]))])
        try assertMatrix("ingress to x/a from x/b") { s, d in d != Self.ref("x/a") || s == Self.ref("x/b") }
    }

    func testNamespaceSelectorAndMatchExpressions() async throws {
        let p = knp("from-y", "x", Spec(podSelector: sel(["pod": "a"]), ingress: [Spec.IngressRule(from: [Spec.Peer(namespaceSelector: sel(["ns": "y"]))])]))
        try await apply([p])
        try assertMatrix("ingress to x/a from namespace y") { s, d in d != Self.ref("x/a") || s.namespace == "y" }
        try await remove([p])
        let expr = LabelSelector(matchExpressions: [LabelSelector.Requirement(key: "ns", operator: "NotIn", values: ["x"])])
        try await apply([knp("not-x", "x", Spec(podSelector: sel(["pod": "a"]), ingress: [Spec.IngressRule(from: [Spec.Peer(namespaceSelector: expr)])]))])
        try assertMatrix("ingress to x/a from ns NotIn {x}") { s, d in d != Self.ref("x/a") || s.namespace != "x" }
    }

    func testPeersAndVersusOr() async throws {
        let and = knp("and", "x", Spec(podSelector: sel(["pod": "a"]), ingress: [Spec.IngressRule(from: [
            Spec.Peer(podSelector: sel(["pod": "b"]), namespaceSelector: sel(["ns": "y"])),
        ])]))
        try await apply([and])
        try assertMatrix("AND: y/b only") { s, d in d != Self.ref("x/a") || s == Self.ref("y/b") }
        try await remove([and])
        try await apply([knp("or", "x", Spec(podSelector: sel(["pod": "a"]), ingress: [Spec.IngressRule(from: [
            Spec.Peer(namespaceSelector: sel(["ns": "y"])), Spec.Peer(podSelector: sel(["pod": "b"])),
        ])]))])
        try assertMatrix("OR: namespace y or x/b") { s, d in d != Self.ref("x/a") || s.namespace == "y" || s == Self.ref("x/b") }
    }

    func testPortsNamedPortsAndEndPort() async throws {
        let numeric = knp("p81", "x", Spec(podSelector: sel(["pod": "a"]), ingress: [Spec.IngressRule(ports: [port(81)])]))
        try await apply([numeric])
        try assertMatrix("TCP 81 only: 80", port: 80) { _, d in d != Self.ref("x/a") }
        try assertMatrix("TCP 81 only: 81", port: 81) { _, _ in true }
        try assertMatrix("TCP 81 only: UDP 81", port: 81, proto: .udp) { _, d in d != Self.ref("x/a") }
        try await remove([numeric])

        let byName = knp("named", "x", Spec(podSelector: sel(["pod": "a"]), ingress: [Spec.IngressRule(ports: [named("serve-80-udp", "UDP")])]))
        try await apply([byName])
        try assertMatrix("named serve-80-udp: UDP 80", port: 80, proto: .udp) { _, _ in true }
        try assertMatrix("named serve-80-udp: TCP 80", port: 80) { _, d in d != Self.ref("x/a") }
        try await remove([byName])

        let range = knp("range", "x", Spec(podSelector: sel(["pod": "a"]), ingress: [Spec.IngressRule(ports: [port(79, end: 80)])]))
        try await apply([range])
        try assertMatrix("endPort 79-80: 80", port: 80) { _, _ in true }
        try assertMatrix("endPort 79-80: 81", port: 81) { _, d in d != Self.ref("x/a") }
    }

    func testNamedPortEgress() async throws {
        try await apply([knp("egress-named", "x", Spec(podSelector: sel(["pod": "a"]), policyTypes: ["Egress"],
                                                      egress: [Spec.EgressRule(ports: [named("serve-81-tcp")])]))])
        try assertMatrix("egress from x/a to serve-81-tcp: 81", port: 81) { _, _ in true }
        try assertMatrix("egress from x/a to serve-81-tcp: 80", port: 80) { s, _ in s != Self.ref("x/a") }
    }

    func testProtocolOnlyPortStillIsolatesTCP() async throws {
        try await apply([knp("udp-only", "x", Spec(podSelector: sel(["pod": "a"]), ingress: [Spec.IngressRule(ports: [Spec.Port(protocol: "UDP")])]))])
        try assertMatrix("UDP-only policy: UDP", port: 80, proto: .udp) { _, _ in true }
        try assertMatrix("UDP-only policy: TCP", port: 80) { _, d in d != Self.ref("x/a") }
    }

    func testStackedPolicies() async throws {
        try await apply([
            knp("from-b", "x", Spec(podSelector: sel(["pod": "a"]), ingress: [Spec.IngressRule(from: [Spec.Peer(podSelector: sel(["pod": "b"]))])])),
            knp("from-z", "x", Spec(podSelector: sel(["pod": "a"]), ingress: [Spec.IngressRule(from: [Spec.Peer(namespaceSelector: sel(["ns": "z"]))])])),
        ])
        try assertMatrix("stacked: x/b or namespace z") { s, d in d != Self.ref("x/a") || s == Self.ref("x/b") || s.namespace == "z" }
    }

    func testUpdatedNamespaceAndPodLabels() async throws {
        try await apply([
            knp("team", "x", Spec(podSelector: sel(["pod": "a"]), ingress: [Spec.IngressRule(from: [
                Spec.Peer(namespaceSelector: sel(["team": "blue"])), Spec.Peer(podSelector: sel(["role": "client"]), namespaceSelector: LabelSelector()),
            ])])),
        ])
        try assertMatrix("nobody labelled yet") { _, d in d != Self.ref("x/a") }
        try await cluster.change {
            var y = try await cluster.api.get(Namespace.self, name: "y", namespace: nil)
            y.metadata.labels?["team"] = "blue"
            _ = try await cluster.api.update(y)
        }
        try assertMatrix("namespace y labelled team=blue") { s, d in d != Self.ref("x/a") || s.namespace == "y" }
        try await cluster.change {
            var c = try await cluster.api.get(Pod.self, name: "c", namespace: "z")
            c.metadata.labels?["role"] = "client"
            _ = try await cluster.api.update(c)
        }
        try assertMatrix("and z/c labelled role=client") { s, d in d != Self.ref("x/a") || s.namespace == "y" || s == Self.ref("z/c") }
    }

    func testIPBlockWithExcept() async throws {
        try await apply([knp("cidr", "x", Spec(podSelector: sel(["pod": "a"]), ingress: [Spec.IngressRule(from: [
            Spec.Peer(ipBlock: Spec.IPBlock(cidr: "10.77.0.0/16", except: ["10.77.1.0/24"])),
        ])]))])
        try assertMatrix("ipBlock 10.77/16 except y's /24") { s, d in d != Self.ref("x/a") || s.namespace != "y" }
    }

    func testEgressDenyOnClientSide() async throws {
        try await apply([knp("no-egress", "x", Spec(podSelector: sel(["pod": "a"]), policyTypes: ["Egress"]))])
        try assertMatrix("x/a may not send") { s, _ in s != Self.ref("x/a") }
        try assertMatrix("x/a may not send (UDP)", port: 81, proto: .udp) { s, _ in s != Self.ref("x/a") }
    }
}
