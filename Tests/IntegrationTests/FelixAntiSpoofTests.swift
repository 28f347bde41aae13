import Core
import Foundation
import Policy
import XCTest

/// A pod that sends from an address that is not its own is dropped by the reverse-path check in
/// `raw-prerouting` (no route back to that source through the pod's interface); its own address
/// passes (felix's route to it leaves through that interface). Root.
final class FelixAntiSpoofTests: XCTestCase {
    typealias Ref = FelixTestCluster.PodRef
    private var cluster: FelixTestCluster!
    private let a = Ref(namespace: "sp", name: "a"), b = Ref(namespace: "sp", name: "b")
    private let spoofed = "10.79.0.50"

    override func setUp() async throws {
        guard getuid() == 0 else { throw DevServerError("needs root for network namespaces and nftables: run the tests as root") }
        cluster = try FelixTestCluster(tag: "as")
        try await cluster.ensureNamespace("sp")
        try await cluster.addPod(namespace: "sp", name: "a", ip: "10.79.0.1", labels: ["pod": "a"])
        try await cluster.addPod(namespace: "sp", name: "b", ip: "10.79.0.2", labels: ["pod": "b"])
        // Pod a also holds an address that is not its endpoint's, and the node carries b's traffic
        // to that address to a, so that only anti-spoofing stops a connection from it. The route
        // is a policy route for what comes in from b alone: the node's own table still sends that
        // address out of its uplink, as for any address no pod owns, so the reverse-path lookup
        // (made as if from the node) finds no route back through a's interface.
        try KernelFixture.ip(cluster.pods[a]!.netns, ["addr", "add", "\(spoofed)/32", "dev", "eth0"])
        let aIface = WorkloadEndpoint.hostInterfaceName(namespace: "sp", pod: "a")
        let bIface = WorkloadEndpoint.hostInterfaceName(namespace: "sp", pod: "b")
        try KernelFixture.ip(cluster.node, ["route", "add", "\(spoofed)/32", "dev", aIface, "table", "179"])
        try KernelFixture.ip(cluster.node, ["rule", "add", "iif", bIface, "lookup", "179"])
    }

    override func tearDown() async throws {
        await cluster?.tearDown()
        cluster = nil
    }

    /// connect.py SOURCE IP PORT: one TCP echo from a bound source address; prints 1 or 0.
    private static let connectScript = """
    import socket, sys
    src, ip, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM); s.settimeout(1.0)
        s.bind((src, 0)); s.connect((ip, port)); s.sendall(b"x"); print(1 if s.recv(1) == b"x" else 0)
    except Exception:
        print(0)
    """

    private func connects(from source: String) async throws -> Bool {
        try await cluster.wait(cluster.runInPod(a, script: Self.connectScript, args: [source, cluster.pods[b]!.ip, "80"])) == "1"
    }

    /// Packets counted by the rule of `chain` whose comment says `comment`.
    private func counted(_ chain: String, _ comment: String) throws -> Int {
        let text = try nft(["list", "chain", "inet", "calico", chain])
        guard let line = text.split(separator: "\n").first(where: { $0.contains(comment) }),
              let range = line.range(of: "counter packets ") else { throw FelixTestError("no counted rule '\(comment)' in \(chain):\n\(text)") }
        return Int(line[range.upperBound...].prefix { $0.isNumber }) ?? -1
    }

    func testSpoofedSourceIsDroppedOwnAddressPasses() async throws {
        cluster.startFelix()
        try await cluster.waitFelixReady()
        let own = try await connects(from: cluster.pods[a]!.ip)
        XCTAssertTrue(own, "a's own address passes (no policy: the namespace profile allows)")
        let check = RenderNames.rawPreroutingChain
        XCTAssertEqual(try counted(check, "spoofed source"), 0, "a's own address has its route back through a's interface")
        let spoofedAfter = try await connects(from: spoofed)
        XCTAssertFalse(spoofedAfter, "a spoofed source must be dropped")
        XCTAssertGreaterThan(try counted(check, "spoofed source"), 0, "dropped by the reverse-path check")
        // The check comes before conntrack: a's replies from an address it does not own are
        // dropped too, so b cannot ping that address through a.
        XCTAssertThrowsError(try ping(from: b, spoofed))
        // b answering a: a's address is b's destination, not a source of a: allowed.
        XCTAssertTrue(try cluster.canReach(b, a))

        // Without the check the same connection gets through: nothing else stopped it.
        let listing = try nft(["-a", "list", "chain", "inet", "calico", check])
        let handles = listing.split(separator: "\n").filter { $0.contains("spoofed source") }.compactMap { $0.split(separator: " ").last }
        XCTAssertEqual(handles.count, 2, listing)
        for handle in handles { try nft(["delete", "rule", "inet", "calico", check, "handle", String(handle)]) }
        let spoofedUnguarded = try await connects(from: spoofed)
        XCTAssertTrue(spoofedUnguarded, "with the reverse-path check deleted the spoofed source passes")
        XCTAssertNoThrow(try ping(from: b, spoofed), "and the routes carry it both ways")
    }

    private func ping(from pod: Ref, _ address: String) throws {
        try KernelFixture.run("/usr/sbin/ip", ["netns", "exec", KernelFixture.name(cluster.pods[pod]!.netns), "ping", "-c", "1", "-W", "1", address])
    }

    @discardableResult
    private func nft(_ args: [String]) throws -> String {
        try KernelFixture.run("/usr/sbin/ip", ["netns", "exec", KernelFixture.name(cluster.node), "nft"] + args)
    }
}
