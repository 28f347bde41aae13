import Core
import XCTest
@testable import Policy

/// A pod arriving or leaving is interface-set elements of the dispatch (the interface set, its
/// policies', tiers' and profiles' sets) and its own two chains with their map elements, not a
/// render of both dispatch chains and every `ep-*` set; only the first pod of a namespace or
/// service account (or the last) opens (closes) its profile's place: two rules and a set per
/// direction.
final class FelixIncrementalPodTests: XCTestCase {
    private typealias F = Fixture

    private func calculator() -> PolicyCalculator {
        var calc = PolicyCalculator(nodeName: "n1")
        for ns in ["x", "y"] { calc.apply(.profileUpdated(F.namespace(ns))) }
        calc.apply(.profileUpdated(Profile(serviceAccount: ServiceAccount(metadata: ObjectMeta(name: "web", namespace: "x")))))
        calc.apply(.policyUpdated(F.policy("a", ns: "x", order: 1, selector: "role == 'web'", ingress: [F.allowFrom("all()", proto: .tcp)])))
        for (i, pod) in ["p0", "p1"].enumerated() {
            calc.apply(.endpointUpdated(F.endpoint(pod, ip: "10.1.0.\(i + 1)", labels: ["role": "web"], sa: "web")))
        }
        return calc
    }

    /// The plan from rendering `calc`, then `change`; the incremental render must equal a full
    /// one and must not have rendered the dispatch anew.
    private func planOf(_ calc: inout PolicyCalculator, _ change: CalcChange, places: Int,
                        file: StaticString = #filePath, line: UInt = #line) -> NFTPlan {
        var renderer = IncrementalRenderer()
        let before = renderer.render(calc.state).ruleset
        calc.apply(change)
        let after = renderer.render(calc.state).ruleset
        XCTAssertEqual(after, RulesetRenderer.render(PolicyCalculator(inputs: calc.inputs).state), file: file, line: line)
        XCTAssertEqual(renderer.dispatchUpdates.full, 0, "rendered the dispatch in full", file: file, line: line)
        XCTAssertEqual(renderer.dispatchUpdates.places, places, file: file, line: line)
        return NFTDiff.plan(from: .assuming(before), to: after)
    }

    /// The plan's changes to `iface`'s own chains and map elements: the two chains with two rules
    /// each and one element per map when it arrives, all of it gone when it leaves.
    private func assertOwnChains(_ plan: NFTPlan, _ iface: String, arrived: Bool, file: StaticString = #filePath, line: UInt = #line) {
        let own = [true, false].map { RenderNames.endpointChain(iface, ingress: $0) }
        for ingress in [true, false] {
            let map = RenderNames.dispatchMap(ingress: ingress), chain = RenderNames.endpointChain(iface, ingress: ingress)
            if arrived {
                XCTAssertEqual(plan.addMapElements[map], [iface: .jump(chain)], file: file, line: line)
            } else {
                XCTAssertEqual(plan.deleteMapElements[map], [iface], file: file, line: line)
            }
        }
        if arrived {
            XCTAssertEqual(Set(plan.addChains.map(\.name)), Set(own), file: file, line: line)
            XCTAssertEqual(plan.addRules.map(\.chain).sorted(), (own + own).sorted(), "two rules in each", file: file, line: line)
            XCTAssertEqual(plan.deleteRules.count + plan.deleteChains.count, 0, file: file, line: line)
        } else {
            XCTAssertEqual(Set(plan.deleteChains), Set(own), file: file, line: line)
            XCTAssertEqual(plan.addRules.count + plan.addChains.count, 0, file: file, line: line)
        }
    }

    func testAPodArrivingInAKnownNamespaceIsSetElementsAndItsOwnChains() {
        var calc = calculator()
        let pod = F.endpoint("p2", ip: "10.1.0.3", labels: ["role": "web"], sa: "web")
        let plan = planOf(&calc, .endpointUpdated(pod), places: 0)
        XCTAssertEqual(plan.addSets.count + plan.deleteSets.count, 0)
        assertOwnChains(plan, pod.interfaceName, arrived: true)
        let iface = NFTKeyElement(key: NFTElementCodec.ifnameKey(pod.interfaceName))
        let expected = [RenderNames.workloadInterfaces, "ep-cali-pi-x_a",
                        RenderNames.membersSet(chain: RenderNames.profileChain("kns.x", ingress: true), occurrence: 0),
                        RenderNames.membersSet(chain: RenderNames.profileChain("ksa.x.web", ingress: false), occurrence: 0)]
        for set in expected {
            XCTAssertEqual(plan.addSetElements[set]?.contains(iface), true, "\(pod.interfaceName) added to \(set)")
        }
        XCTAssertEqual(Set(plan.deleteSetElements.keys).intersection(expected), [], "no interface set loses an element")
    }

    func testAPodLeavingIsSetElementsAndItsOwnChains() {
        var calc = calculator()
        let plan = planOf(&calc, .endpointRemoved(key: "x/p1"), places: 0)
        XCTAssertEqual(plan.deleteSets.count, 0)
        let name = WorkloadEndpoint.hostInterfaceName(namespace: "x", pod: "p1")
        assertOwnChains(plan, name, arrived: false)
        let iface = NFTKeyElement(key: NFTElementCodec.ifnameKey(name))
        for set in [RenderNames.workloadInterfaces, "ep-cali-pi-x_a"] {
            XCTAssertEqual(plan.deleteSetElements[set]?.contains(iface), true, "removed from \(set)")
        }
    }

    /// The first pod of namespace y: its profile's place opens after the tiers (a jump and its
    /// return in each direction), and closes again when it leaves.
    func testTheFirstPodOfANamespaceOpensItsProfilePlaceAndTheLastClosesIt() {
        var calc = calculator()
        let pod = F.endpoint("q0", ns: "y", ip: "10.1.0.9")
        let opened = planOf(&calc, .endpointUpdated(pod), places: 1)
        for ingress in [true, false] {
            let chain = RenderNames.dispatchChain(ingress: ingress), profile = RenderNames.profileChain("kns.y", ingress: ingress)
            XCTAssertEqual(opened.addRules.filter { $0.chain == chain }.map(\.rule.verdict), [.jump(profile), .return])
            XCTAssertEqual(opened.addSets.map(\.name).filter { $0.hasPrefix("ep-") }.contains(RenderNames.membersSet(chain: profile, occurrence: 0)), true)
        }
        XCTAssertEqual(opened.deleteRules.count, 0)
        let closed = planOf(&calc, .endpointRemoved(key: "y/q0"), places: 1)
        XCTAssertEqual(closed.deleteRules.count, 4, "the two places' rules")
        XCTAssertEqual(closed.addRules.count, 0)
        XCTAssertEqual(Set(closed.deleteSets), Set([true, false].map {
            RenderNames.membersSet(chain: RenderNames.profileChain("kns.y", ingress: $0), occurrence: 0) }))
    }

    /// A pod whose named port resolves to a number no other pod uses is one element of the
    /// named port's set (address and port), not new sets or rules beyond its own chains; leaving,
    /// the element goes.
    func testAPodWithANewNamedPortNumberIsOneElement() {
        var calc = calculator()
        calc.apply(.policyUpdated(F.policy("named", ns: "x", order: 2, selector: "role == 'web'",
                                           ingress: [F.allowFrom("all()", ports: [.named("http")], proto: .tcp)])))
        calc.apply(.endpointUpdated(F.endpoint("p0", ip: "10.1.0.1", labels: ["role": "web"],
                                               ports: [EndpointPort(name: "http", protocol: .tcp, port: 8080)], sa: "web")))
        let set = RenderNames.namedPortSet(.namedPort(.all, .tcp, "http"), ipv6: false)
        let pod = F.endpoint("p2", ip: "10.1.0.3", labels: ["role": "web"], ports: [EndpointPort(name: "http", protocol: .tcp, port: 9090)], sa: "web")
        let key = NFTKeyElement(key: [10, 1, 0, 3, 0x23, 0x82, 0, 0])
        let arrived = planOf(&calc, .endpointUpdated(pod), places: 0)
        XCTAssertEqual(arrived.addSets.count + arrived.deleteSets.count, 0)
        assertOwnChains(arrived, pod.interfaceName, arrived: true)
        XCTAssertEqual(arrived.addSetElements[set], [key])
        XCTAssertEqual(calc.state.ipSets[.namedPort(.all, .tcp, "http")]?.ports.map(\.port).sorted(), [8080, 9090])
        let left = planOf(&calc, .endpointRemoved(key: pod.key), places: 0)
        XCTAssertEqual(left.deleteSets.count, 0)
        assertOwnChains(left, pod.interfaceName, arrived: false)
        XCTAssertEqual(left.deleteSetElements[set], [key])
    }
}
