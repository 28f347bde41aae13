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
                // A restarted felix recognises every rule, the fib one included: nothing to send.
                XCTAssertTrue(try NFTProgrammer(namespace: spaces[0]).apply(desired).isEmpty, action)
            }
        }
    }
}
