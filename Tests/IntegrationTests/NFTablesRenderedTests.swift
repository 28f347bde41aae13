import Core
import Foundation
import Policy
import XCTest

/// The renderer's own layout (base chains, reverse-path check, verdict rules and their counting
/// sets, dispatch) in the real kernel: programmed through netlink it lists exactly as `nft -f`
/// of its text does, and a restarted programmer finds nothing to change. Root.
final class NFTablesRenderedTests: XCTestCase {
    private func ruleset(endpointToHost: String) -> NFTRuleset {
        func endpoint(_ pod: String, _ addresses: [String]) -> WorkloadEndpoint {
            WorkloadEndpoint(name: WorkloadEndpoint.endpointName(node: "n1", pod: pod), namespace: "x", pod: pod, node: "n1",
                             interfaceName: WorkloadEndpoint.hostInterfaceName(namespace: "x", pod: pod),
                             addresses: addresses.map { IPNet(parsing: $0)! },
                             labels: ["projectcalico.org/namespace": "x", "projectcalico.org/orchestrator": "k8s"], profiles: ["kns.x"])
        }
        let a = endpoint("a", ["10.0.0.1/32", "fd00::1/128"]), b = endpoint("b", ["10.0.0.2/32"])
        let profile = Profile(namespace: Namespace(metadata: ObjectMeta(name: "x", labels: ["kubernetes.io/metadata.name": "x"])))
        let inputs = CalcInputs(nodeName: "n1", endpoints: [a.key: a, b.key: b], profiles: ["kns.x": profile],
                                config: CalcConfig(endpointToHostAction: endpointToHost))
        return RulesetRenderer.render(DataplaneState.compute(from: inputs))
    }

    func testRenderedLayoutListsLikeNftLoadOfItsTextAndReconcilesToNothing() throws {
        for action in ["Drop", "Accept"] {
            try KernelFixture.withNamespaces(2) { spaces in
                let desired = ruleset(endpointToHost: action)
                try NFTProgrammer(namespace: spaces[0]).apply(desired)
                let file = FileManager.default.temporaryDirectory.appendingPathComponent("nftr-\(KernelFixture.uniqueName("t")).nft")
                try NFTText.render(desired).write(to: file, atomically: true, encoding: .utf8)
                defer { try? FileManager.default.removeItem(at: file) }
                try KernelFixture.run("/usr/sbin/ip", ["netns", "exec", KernelFixture.name(spaces[1]), "nft", "-f", file.path])
                let list = { (ns: NetNamespace, chain: String) in
                    try KernelFixture.run("/usr/sbin/ip", ["netns", "exec", KernelFixture.name(ns), "nft", "list", "chain", "inet", "calico", chain])
                }
                let check = try list(spaces[0], RenderNames.rawPreroutingChain)
                XCTAssertTrue(check.contains("type filter hook prerouting priority raw; policy accept;"), check)
                XCTAssertEqual(check.components(separatedBy: "fib saddr . iif oif missing counter packets 0 bytes 0 drop").count, 3, check)
                for chain in desired.chains.keys.sorted() {
                    XCTAssertEqual(try list(spaces[0], chain), try list(spaces[1], chain), "\(action): \(chain)")
                }
                for set in desired.sets.keys.sorted() {
                    let listSet = { (ns: NetNamespace) in
                        try KernelFixture.run("/usr/sbin/ip", ["netns", "exec", KernelFixture.name(ns), "nft", "list", "set", "inet", "calico", set])
                    }
                    XCTAssertEqual(try listSet(spaces[0]), try listSet(spaces[1]), "\(action): \(set)")
                }
                // A restarted felix recognises every rule, the fib one included: nothing to send.
                XCTAssertTrue(try NFTProgrammer(namespace: spaces[0]).apply(desired).isEmpty, action)
            }
        }
    }

    /// A node programmed by the earlier layout (no chain per endpoint: the verdict as two rules
    /// per direction in the forward chain that look the interface up in four counting sets)
    /// moves to this one in one batch on felix's restart: the counting sets and the rules
    /// naming them go, the endpoints' chains and the maps to them come, nothing else moves.
    func testEarlierCountingSetLayoutReconcilesInOneBatch() throws {
        try KernelFixture.withNamespaces(1) { spaces in
            let desired = ruleset(endpointToHost: "Drop")
            let ifaces = desired.sets[RenderNames.workloadInterfaces]!.elements.compactMap { e -> String? in
                if case .ifname(let name) = e { return name } else { return nil }
            }
            XCTAssertFalse(ifaces.isEmpty)
            var earlier = desired
            earlier.maps = [:]
            for iface in ifaces { for ingress in [true, false] { earlier.chains[RenderNames.endpointChain(iface, ingress: ingress)] = nil } }
            let counting = ["cali-fw-allowed", "cali-fw-denied", "cali-tw-allowed", "cali-tw-denied"]
            for name in counting { earlier.add(NFTSet(name: name, type: .ifname, counter: true, elements: Set(ifaces.map { .ifname($0) }))) }
            let wl = RenderNames.workloadInterfaces
            let accepted = NFTMatch.mark(value: 0x10000, mask: 0x10000), notAccepted = NFTMatch.mark(value: 0x10000, mask: 0x10000, negated: true)
            earlier.chains[RenderNames.forwardChain]!.rules = Array(desired.chains[RenderNames.forwardChain]!.rules.prefix(4)) + [
                NFTRule([accepted, .iifnameInSet("cali-fw-allowed")], comment: "allowed: counted, on to the destination"),
                NFTRule([notAccepted, .iifnameInSet("cali-fw-denied")], verdict: .drop, comment: "no policy or profile allowed it"),
                NFTRule([.oifnameInSet(wl)], verdict: .jump(RenderNames.toWorkloads)),
                NFTRule([accepted, .oifnameInSet("cali-tw-allowed")], verdict: .accept),
                NFTRule([.oifnameInSet("cali-tw-denied")], verdict: .drop, comment: "no policy or profile allowed it"),
            ]
            XCTAssertEqual(earlier.chains[RenderNames.forwardChain]!.rules[3].verdict, .jump(RenderNames.fromWorkloads))
            try NFTProgrammer(namespace: spaces[0]).apply(earlier)
            let plan = try NFTProgrammer(namespace: spaces[0]).apply(desired)
            let own = Set(ifaces.flatMap { [RenderNames.fromWorkload($0), RenderNames.toWorkload($0)] })
            XCTAssertEqual(Set(plan.addChains.map(\.name)), own)
            XCTAssertEqual(Set(plan.deleteSets), Set(counting))
            XCTAssertEqual(Set(plan.addMaps), [RenderNames.fromWorkloadMap, RenderNames.toWorkloadMap])
            XCTAssertEqual(Set(plan.addRules.map(\.chain)), own.union([RenderNames.forwardChain]), "no other chain moves")
            XCTAssertTrue(try NFTProgrammer(namespace: spaces[0]).apply(desired).isEmpty, "a second restart sends nothing")
        }
    }
}
