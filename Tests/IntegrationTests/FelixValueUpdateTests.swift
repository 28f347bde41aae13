import Core
import Foundation
import Policy
import XCTest

/// A policy whose value list changes (its ports) reaches the kernel as set elements only: every
/// chain keeps every rule with its handle, the rule's port set holds the new ports, and traffic
/// follows at once; a single port is in its rule, and changing it replaces that rule alone.
/// Root (network namespaces, nftables).
final class FelixValueUpdateTests: XCTestCase {
    typealias Ref = FelixTestCluster.PodRef
    private var cluster: FelixTestCluster!
    private let a = Ref(namespace: "fv", name: "a"), b = Ref(namespace: "fv", name: "b")

    override func setUp() async throws {
        guard getuid() == 0 else { throw DevServerError("needs root for network namespaces and nftables: run the tests as root") }
        cluster = try FelixTestCluster(tag: "fv")
        try await cluster.ensureNamespace("fv")
        try await cluster.addPod(namespace: "fv", name: "a", ip: "10.79.0.1", labels: ["pod": "a"])
        try await cluster.addPod(namespace: "fv", name: "b", ip: "10.79.0.2", labels: ["pod": "b"])
    }

    override func tearDown() async throws {
        await cluster?.tearDown()
        cluster = nil
    }

    private func allowBToA(ports: [Int]) -> K8sNetworkPolicy {
        typealias Spec = K8sNetworkPolicySpec
        let spec = Spec(podSelector: LabelSelector(matchLabels: ["pod": "a"]), policyTypes: ["Ingress"], ingress: [
            Spec.IngressRule(from: [Spec.Peer(podSelector: LabelSelector(matchLabels: ["pod": "b"]))],
                             ports: ports.map { Spec.Port(protocol: "TCP", port: .int($0)) }),
        ])
        return K8sNetworkPolicy(metadata: ObjectMeta(name: "allow-b", namespace: "fv"), spec: spec)
    }

    /// Every chain's rules as (handle, identity), from the kernel.
    private func rules(_ state: NFTProgrammedState) -> [String: [String]] {
        state.chains.mapValues { $0.rules.map { "\($0.handle) \($0.identity ?? "-")" } }
    }

    func testPortChangeIsElementOnlyAndTrafficFollows() async throws {
        cluster.startFelix()
        try await cluster.waitFelixReady()
        var policy = try await cluster.api.create(allowBToA(ports: [80, 8080]))
        try await cluster.change {}
        XCTAssertTrue(try cluster.canReach(b, a, port: 80))
        XCTAssertFalse(try cluster.canReach(b, a, port: 81))

        let reader = try NFTProgrammer(namespace: cluster.node)
        let before = try reader.readProgrammed()
        let portSet = before.sets.keys.first { name in
            name.hasPrefix("v-") && before.sets[name]?.elements
                == NFTElementCodec.keyElements(NFTSet(name: name, type: .inetService, interval: true, elements: [.port(80), .port(8080)]))
        } ?? "no port set"
        XCTAssertNotNil(before.sets[portSet], "the rule's ports are in their own set: \(before.sets.keys.sorted())")

        policy.spec = allowBToA(ports: [81, 8080]).spec
        try await cluster.change { _ = try await cluster.api.update(policy) }
        let after = try reader.readProgrammed()
        XCTAssertEqual(rules(after), rules(before), "a port change adds, deletes or moves no rule")
        XCTAssertEqual(Set(after.chains.keys), Set(before.chains.keys))
        XCTAssertNotEqual(after.sets[portSet]?.elements, before.sets[portSet]?.elements)
        XCTAssertEqual(after.sets[portSet]?.elements,
                       NFTElementCodec.keyElements(NFTSet(name: portSet, type: .inetService, interval: true, elements: [.port(81), .port(8080)])))
        XCTAssertFalse(try cluster.canReach(b, a, port: 80))
        XCTAssertTrue(try cluster.canReach(b, a, port: 81))

        // One port: written into the rule, the set gone; then another port replaces that rule
        // alone (every other rule of every chain keeps its handle).
        policy = try await cluster.api.get(K8sNetworkPolicy.self, name: "allow-b", namespace: "fv")
        policy.spec = allowBToA(ports: [81]).spec
        try await cluster.change { _ = try await cluster.api.update(policy) }
        let single = try reader.readProgrammed()
        XCTAssertNil(single.sets[portSet])
        policy = try await cluster.api.get(K8sNetworkPolicy.self, name: "allow-b", namespace: "fv")
        policy.spec = allowBToA(ports: [80]).spec
        try await cluster.change { _ = try await cluster.api.update(policy) }
        let moved = try reader.readProgrammed()
        let was = rules(single), now = rules(moved)
        XCTAssertEqual(Set(was.keys), Set(now.keys))
        let changed = was.keys.filter { was[$0] != now[$0] }
        XCTAssertEqual(changed.count, 1, "only the policy's chain: \(changed)")
        for chain in changed {
            // The rule's IPv4 and IPv6 forms (its peer is a selector, per version).
            XCTAssertEqual(Set(was[chain]!).subtracting(now[chain]!).count, 2, "the rule went")
            XCTAssertEqual(Set(now[chain]!).subtracting(was[chain]!).count, 2, "the rule came")
        }
        XCTAssertEqual(moved.sets.count, single.sets.count)
        XCTAssertFalse(try cluster.canReach(b, a, port: 81))
        XCTAssertTrue(try cluster.canReach(b, a, port: 80))
    }
}
