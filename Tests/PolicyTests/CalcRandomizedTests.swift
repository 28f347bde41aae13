import XCTest
import Core
@testable import Policy

/// The incremental calculator must equal a full recomputation after every change of random
/// sequences over a small universe (so that changes collide often).
final class CalcRandomizedTests: XCTestCase {
    private typealias F = Fixture

    private let selectors = ["pod == 'a'", "pod in {'a', 'b'}", "has(pod)", "!has(pod)", "all()", "role == 'db' || pod == 'c'",
                             "pcns.team == 'blue'", "global()", "projectcalico.org/namespace == 'y'", "pod != 'a'"]

    private func randomChange(_ rng: inout RNG) -> CalcChange {
        let pods = ["a", "b", "c", "d"], namespaces = ["x", "y"]
        switch Int.random(in: 0..<10, using: &rng) {
        case 0...2:
            var labels: [String: String] = [:]
            if Bool.random(using: &rng) { labels["pod"] = pods.randomElement(using: &rng)! }
            if Bool.random(using: &rng) { labels["role"] = "db" }
            let ports = Bool.random(using: &rng) ? [EndpointPort(name: "http", protocol: .tcp, port: UInt16.random(in: 80...82, using: &rng))] : []
            return .endpointUpdated(F.endpoint(pods.randomElement(using: &rng)!, ns: namespaces.randomElement(using: &rng)!,
                                               node: Bool.random(using: &rng) ? "n1" : "n2",
                                               ip: "10.0.0.\(Int.random(in: 1...6, using: &rng))", labels: labels, ports: ports))
        case 3:
            return .endpointRemoved(key: "\(namespaces.randomElement(using: &rng)!)/\(pods.randomElement(using: &rng)!)")
        case 4:
            let ns = namespaces.randomElement(using: &rng)!
            if Int.random(in: 0..<4, using: &rng) == 0 { return .profileRemoved(name: "kns.\(ns)") }
            return .profileUpdated(F.namespace(ns, labels: Bool.random(using: &rng) ? ["team": "blue"] : [:]))
        case 5...7:
            let name = ["p1", "p2", "p3", "p4", "p5"].randomElement(using: &rng)!
            let rule = F.allowFrom(selectors.randomElement(using: &rng)!, ports: Bool.random(using: &rng) ? [.named("http")] : [],
                                   proto: .tcp)
            var egress = rule
            egress.destination.selector = F.sel(selectors.randomElement(using: &rng)!)
            return .policyUpdated(F.policy(name, ns: Bool.random(using: &rng) ? "x" : nil,
                                           order: Bool.random(using: &rng) ? Double(Int.random(in: 1...3, using: &rng)) : nil,
                                           tier: ["default", "default", "security", "audit"].randomElement(using: &rng)!,
                                           selector: selectors.randomElement(using: &rng)!,
                                           ingress: Bool.random(using: &rng) ? [rule] : nil,
                                           egress: Bool.random(using: &rng) ? [egress] : nil))
        case 8:
            return .policyRemoved(PolicyKey(namespace: Bool.random(using: &rng) ? "x" : nil, name: ["p1", "p2", "p3", "p4", "p5"].randomElement(using: &rng)!))
        default:
            let name = ["s1", "s2"].randomElement(using: &rng)!
            if Int.random(in: 0..<3, using: &rng) == 0 { return .networkSetRemoved(key: name) }
            return .networkSetUpdated(NetworkSetEntry(globalNetworkSet: GlobalNetworkSet(
                metadata: ObjectMeta(name: name, labels: Bool.random(using: &rng) ? ["pod": "a"] : ["role": "db"]),
                spec: NetworkSetSpec(nets: ["192.168.\(Int.random(in: 0...2, using: &rng)).0/24"]))))
        }
    }

    func testIncrementalEqualsFullRecompute() {
        for seed in 0..<40 {
            var rng = RNG(state: UInt64(seed))
            var calc = PolicyCalculator(nodeName: "n1")
            for step in 0..<60 {
                let change = randomChange(&rng)
                calc.apply(change)
                let full = DataplaneState.compute(from: calc.inputs)
                if calc.state != full {
                    XCTFail("seed \(seed) step \(step) after \(change):\nincremental \(calc.state)\nfull \(full)")
                    return
                }
            }
            XCTAssertEqual(PolicyCalculator(inputs: calc.inputs).state, calc.state)
        }
    }
}
