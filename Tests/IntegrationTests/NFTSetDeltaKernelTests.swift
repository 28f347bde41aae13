import Core
import Foundation
import Policy
import XCTest

/// Pods arriving and leaving reach the kernel as the elements that changed (`NFTSetDelta`):
/// after every step the kernel's sets hold exactly the keys of the ruleset as rendered whole:
/// hash sets of pods' addresses edited address by address, named-port sets made and dropped, a
/// network set's CIDR turning a set into an interval set and back, intervals of neighbouring
/// addresses merged and split (whole intervals replaced, as the kernel requires). Root.
final class NFTSetDeltaKernelTests: XCTestCase {
    private func endpoint(_ i: Int, role: String, port: UInt16, v6: Bool) -> WorkloadEndpoint {
        let pod = "p\(i)"
        var addresses = [IPNet(parsing: "10.2.0.\(i + 1)/32")!]
        if v6 { addresses.append(IPNet(parsing: "fd00:2::\(String(i + 1, radix: 16))/128")!) }
        return WorkloadEndpoint(name: WorkloadEndpoint.endpointName(node: "n1", pod: pod), namespace: "x", pod: pod, node: "n1",
                                interfaceName: WorkloadEndpoint.hostInterfaceName(namespace: "x", pod: pod), addresses: addresses,
                                labels: ["projectcalico.org/namespace": "x", "projectcalico.org/orchestrator": "k8s", "pod": pod, "role": role],
                                profiles: ["kns.x"], ports: [EndpointPort(name: "web", protocol: .tcp, port: port)])
    }

    func testPodsComingAndGoingEditTheKernelsSetsExactly() throws {
        try KernelFixture.withNamespaces(1) { spaces in
            var calc = PolicyCalculator(nodeName: "n1")
            calc.apply(.profileUpdated(Profile(namespace: Namespace(metadata: ObjectMeta(name: "x", labels: ["kubernetes.io/metadata.name": "x"])))))
            let rule = { (selector: String, ports: [PortMatch]) in
                PolicyRule(action: .allow, protocol: .tcp, source: EntityMatch(selector: try! SelectorExpr.parse(selector)),
                           destination: EntityMatch(ports: ports))
            }
            calc.apply(.policyUpdated(Policy(key: PolicyKey(namespace: "x", name: "web"), tier: "default", order: 1,
                                             selector: try SelectorExpr.parse("role == 'web'"), types: PolicyTypes(ingress: true, egress: false),
                                             ingress: [rule("has(pod)", [.named("web")]), rule("role == 'db'", [.range(5432, 5432)])], egress: [])))
            let programmer = try NFTProgrammer(namespace: spaces[0])
            var renderer = IncrementalRenderer()
            try programmer.apply(renderer.render(calc.state).ruleset)

            var seed: UInt64 = 0x5eed
            func random(_ n: Int) -> Int {
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Int((seed >> 33) % UInt64(n))
            }
            var present = Set<Int>(), edited = 0, steps = 0
            for step in 0..<160 {
                let i = random(24)
                if random(12) == 0 {
                    // A network set: a host beside the pods, or a CIDR over some of them.
                    let net = random(2) == 0 ? "10.2.0.40/32" : "10.2.0.\(4 * random(6))/30"
                    calc.apply(.networkSetUpdated(NetworkSetEntry(key: "x/near", namespace: "x", labels: ["pod": "set"], profiles: [],
                                                                  nets: [IPNet(parsing: net)!])))
                } else if present.contains(i), random(3) == 0 {
                    calc.apply(.endpointRemoved(key: "x/p\(i)"))
                    present.remove(i)
                } else {
                    calc.apply(.endpointUpdated(endpoint(i, role: ["web", "db", "none"][random(3)], port: random(4) == 0 ? 8080 : 80,
                                                         v6: random(2) == 0)))
                    present.insert(i)
                }
                let (desired, changed) = renderer.render(calc.state)
                let deltas = renderer.elementDeltas
                try programmer.apply(desired, changed: changed, deltas: deltas)
                if !deltas.isEmpty { edited += 1 }
                let kernel = try NFTProgrammer(namespace: spaces[0]).readProgrammed()
                XCTAssertEqual(Set(kernel.sets.keys), Set(desired.sets.keys), "step \(step)")
                for set in desired.sets.values where kernel.sets[set.name]?.elements != NFTElementCodec.keyElements(set) {
                    return XCTFail("step \(step): the kernel's \(set.name) is \(kernel.sets[set.name]?.elements.sorted() ?? []), "
                                   + "rendered whole \(NFTElementCodec.keyElements(set).sorted())")
                }
                steps += 1
            }
            XCTAssertEqual(steps, 160)
            XCTAssertGreaterThan(edited, 100, "steps that edited sets element by element")
        }
    }
}
