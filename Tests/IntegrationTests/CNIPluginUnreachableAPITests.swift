import CNI
import Core
import Foundation
import XCTest

/// The API work starts at process start, beside the kernel work (TransportPreload, the client
/// made on its own thread): when the API then cannot be reached, the ADD that has already made
/// the veth pair and taken an address still answers with the spec's error and gives both back.
final class CNIPluginUnreachableAPITests: CNIFixtureTestCase {
    override class var fixtureTag: String { "cnu" }

    func testUnreachableAPIAfterTheVethWasMadeHoldsNothing() throws {
        // The server's kubeconfig, pointed at a port nobody listens on.
        let text = try String(contentsOfFile: fx.server.tokenKubeconfig, encoding: .utf8)
        let closed = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.trimmingCharacters(in: .whitespaces).hasPrefix("server:") ? "    server: https://127.0.0.1:1" : String(line)
        }.joined(separator: "\n")
        XCTAssertNotEqual(closed, text, "the kubeconfig has a server line to replace")
        let path = NSTemporaryDirectory() + "cnu-kubeconfig-\(getpid())"
        try closed.write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }

        // A fixed subnet: IPAM needs no Node, so the address is taken and the veth made
        // before the first request (the Pod annotation) fails.
        let pod = try fx.makePod("unreach")
        let config = fx.config(version: "1.0.0", ipam: ["type": "host-local", "subnet": "100.100.77.0/24", "dataDir": fx.dataDir],
                               extra: ["kubernetes": ["kubeconfig": path]])
        let r = try fx.run("ADD", pod, config: config)
        XCTAssertEqual(r.status, 1, r.stdout)
        // An API that cannot be reached is a transient failure: the runtime should retry.
        XCTAssertEqual(r.code, ErrorCode.tryAgainLater.rawValue, r.stdout)
        XCTAssertTrue((r.json["msg"] as? String ?? "").contains("annotate Pod default/unreach"), r.stdout)

        XCTAssertEqual(fx.reservations(), [:], "addresses held")
        XCTAssertFalse(fx.hostLinkExists(pod.hostVeth), "host veth left")
        let links = try KernelFixture.ip(NetNamespace.named(pod.netnsName), ["-o", "link"])
        XCTAssertFalse(links.contains("eth0"), "pod interface left: \(links)")
        XCTAssertEqual(try KernelFixture.ip(nil, ["-4", "route", "show", "root", "100.100.77.0/24"]), "")
    }
}
