@testable import CNI
@testable import Core
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// calico-ipam run by the calico-node agent (`POST /calico-agent/v1/ipam/assign|release`):
/// real pods in namespaces, the IPAM objects exactly as the direct path makes them, the same
/// error on an exhausted pool with nothing held, 20 parallel ADDs and DELs, an agent killed
/// mid-run (code 11 or success, the direct path afterwards, nothing left after the runtime's
/// DELs), and an agent without the endpoint (the per-object requests through it).
final class CNIPluginAgentIPAMTests: CNIAgentTestCase {
    override class var fixtureTag: String { "cai" }

    private var lockFile: String { fx.dir + "/ipam.lock" }
    private var viaSocket: [String: String] {
        ["CALICO_CNI_API_SOCKET": socketPath, "CALICO_CNI_TIMING": "1", "CALICO_IPAM_LOCK_FILE": lockFile]
    }
    private var direct: [String: String] {
        ["CALICO_CNI_API_SOCKET": "none", "CALICO_CNI_TIMING": "1", "CALICO_IPAM_LOCK_FILE": lockFile]
    }

    /// calico-ipam on CNI_PATH, an IPPool `cidr` and the calico-ipam network config.
    private func calicoIPAM(pool cidr: String, blockSize: Int) throws -> [String: Any] {
        try installCalicoIPAM(pool: cidr, blockSize: blockSize)
        return fx.config(version: "1.0.0", ipam: ["type": "calico-ipam"])
    }

    /// The pod CIDR's first three octets and a dot (the fixture's pod CIDR is a /24).
    private var podPrefix: String { String(fx.podCIDR.dropLast(4)) }

    private func items(_ resource: String) throws -> [[String: Any]] {
        let r = try fx.server.curl("/apis/crd.projectcalico.org/v1/\(resource)")
        XCTAssertEqual(r.code, 200, r.body)
        let list = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any])
        return list["items"] as? [[String: Any]] ?? []
    }

    /// Every IPAM object's name and spec, with `containerID` written as CID and timestamps as
    /// "set": what must be equal whichever path made them.
    private func snapshot(containerID: String) throws -> NSDictionary {
        var out: [String: Any] = [:]
        for resource in ["ipamblocks", "ipamhandles", "blockaffinities"] {
            for item in try items(resource) {
                let name = ((item["metadata"] as? [String: Any])?["name"] as? String ?? "?").replacingOccurrences(of: containerID, with: "CID")
                let data = try JSONSerialization.data(withJSONObject: item["spec"] ?? [:], options: [.sortedKeys])
                var text = String(decoding: data, as: UTF8.self).replacingOccurrences(of: containerID, with: "CID")
                text = text.replacingOccurrences(of: #""(timestamp|affinityClaimTime)":"[^"]*""#, with: #""$1":"set""#, options: .regularExpression)
                out["\(resource)/\(name)"] = try JSONSerialization.jsonObject(with: Data(text.utf8))
            }
        }
        return out as NSDictionary
    }

    private func held() throws -> (allocations: Int, handles: [String]) {
        let allocations = try items("ipamblocks").reduce(0) { n, block in
            n + (((block["spec"] as? [String: Any])?["allocations"] as? [Any]) ?? []).filter { !($0 is NSNull) }.count
        }
        let handles = try items("ipamhandles").compactMap { ($0["metadata"] as? [String: Any])?["name"] as? String }
        return (allocations, handles)
    }

    func testTheAgentsIPAMMakesTheObjectsOfTheDirectPath() throws {
        try startAgent()
        let config = try calicoIPAM(pool: fx.podCIDR, blockSize: 26)
        let pod = try fx.makePod("aipam")

        let add = try fx.run("ADD", pod, config: config, extraEnv: viaSocket)
        XCTAssertEqual(add.status, 0, "ADD: \(add.stdout) \(add.stderr)")
        XCTAssertTrue(add.stderr.contains("calico cni ipam ADD: in the agent (one request)"), add.stderr)
        XCTAssertTrue(add.stderr.contains("calico cni ADD: api via the agent socket: 1 connections, 0 direct"), add.stderr)
        let addr = try XCTUnwrap(CNIFixture.address(add.json))
        XCTAssertTrue(fx.ping(from: nil, to: addr), "host -> pod")
        let viaAgent = try snapshot(containerID: pod.containerID)
        XCTAssertEqual(viaAgent.count, 3, "one block, one handle, one affinity: \(viaAgent)")

        let del = try fx.run("DEL", pod, config: config, extraEnv: viaSocket)
        XCTAssertEqual(del.status, 0, "DEL: \(del.stdout) \(del.stderr)")
        XCTAssertTrue(del.stderr.contains("calico cni ipam DEL: in the agent (one request)"), del.stderr)
        XCTAssertEqual(try held().allocations, 0)
        XCTAssertEqual(try held().handles, [])

        // From the same empty start (block and affinity removed), the same pod's next sandbox
        // the direct way: the same address and the same objects.
        for resource in ["ipamblocks", "blockaffinities"] {
            for item in try items(resource) {
                let name = try XCTUnwrap((item["metadata"] as? [String: Any])?["name"] as? String)
                XCTAssertEqual(try fx.server.curl("/apis/crd.projectcalico.org/v1/\(resource)/\(name)", method: "DELETE").code, 200)
            }
        }
        let again = try fx.newSandbox(of: pod)
        let add2 = try fx.run("ADD", again, config: config, extraEnv: direct)
        XCTAssertEqual(add2.status, 0, "direct ADD: \(add2.stdout) \(add2.stderr)")
        XCTAssertTrue(add2.stderr.contains("calico cni ipam ADD: in the plugin (per-object requests)"), add2.stderr)
        XCTAssertEqual(CNIFixture.address(add2.json), addr)
        let directObjects = try snapshot(containerID: again.containerID)
        XCTAssertEqual(directObjects, viaAgent, "the agent's objects field by field as the direct path makes them")
        let del2 = try fx.run("DEL", again, config: config, extraEnv: direct)
        XCTAssertEqual(del2.status, 0, "direct DEL: \(del2.stdout)")
        XCTAssertEqual(try held().handles, [])
    }

    func testAnExhaustedPoolThroughTheAgentIsTheDirectPathsErrorAndHoldsNothing() throws {
        try startAgent()
        let config = try calicoIPAM(pool: podPrefix + "0/30", blockSize: 30)
        let pods = try (0..<5).map { try fx.makePod("aex\($0)") }
        for pod in pods.prefix(4) {
            let r = try fx.run("ADD", pod, config: config, extraEnv: viaSocket)
            XCTAssertEqual(r.status, 0, "ADD \(pod.name): \(r.stdout) \(r.stderr)")
        }
        let full = try fx.run("ADD", pods[4], config: config, extraEnv: viaSocket)
        XCTAssertEqual(full.status, 1, full.stdout)
        XCTAssertTrue(full.stderr.contains("calico cni ADD: api via the agent socket"), full.stderr)
        XCTAssertEqual(full.code, ErrorCode.tryAgainLater.rawValue, full.stdout)
        let fullDirect = try fx.run("ADD", pods[4], config: config, extraEnv: direct)
        XCTAssertEqual(fullDirect.code, full.code)
        XCTAssertEqual(fullDirect.json["msg"] as? String, full.json["msg"] as? String, "the same message both ways")
        XCTAssertTrue((full.json["msg"] as? String ?? "").contains("exhausted"), full.stdout)
        let during = try held()
        XCTAssertEqual(during.allocations, 4)
        XCTAssertFalse(during.handles.contains("k8s-pod-network.\(pods[4].containerID)"), "\(during.handles)")
        XCTAssertFalse(fx.hostLinkExists(pods[4].hostVeth))
        for pod in pods {
            XCTAssertEqual(try fx.run("DEL", pod, config: config, extraEnv: viaSocket).status, 0)
        }
        XCTAssertEqual(try held().allocations, 0)
        XCTAssertEqual(try held().handles, [])
    }

    func testTwentyParallelAddsThroughTheAgentThenDels() throws {
        try startAgent()
        let config = try calicoIPAM(pool: fx.podCIDR, blockSize: 26)
        let pods = try (0..<20).map { try fx.makePod("apar\($0)") }
        let adds = runInParallel("ADD", pods, config: config, extraEnv: viaSocket)
        var addresses: [String] = []
        for (i, r) in adds.enumerated() {
            XCTAssertEqual(r.status, 0, "ADD \(i): \(r.stdout) \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("ipam ADD: in the agent (one request)"), r.stderr)
            if let a = CNIFixture.address(r.json) { addresses.append(a) }
        }
        XCTAssertEqual(Set(addresses).count, 20, "20 distinct addresses: \(addresses)")
        XCTAssertEqual(try held().allocations, 20)
        XCTAssertTrue(fx.ping(from: pods[0], to: addresses[19]), "pod -> pod")
        for (i, r) in runInParallel("DEL", pods, config: config, extraEnv: viaSocket).enumerated() {
            XCTAssertEqual(r.status, 0, "DEL \(i): \(r.stdout)")
            XCTAssertFalse(fx.hostLinkExists(pods[i].hostVeth))
        }
        XCTAssertEqual(try held().allocations, 0)
        XCTAssertEqual(try held().handles, [])
        XCTAssertEqual(try fx.hostRoutesToPods(), [])
    }

    /// The agent is killed (SIGKILL, no clean-up) while ADDs go through it: each ADD succeeds or
    /// answers 11; later invocations find the stale socket and go direct; the runtime's DELs
    /// (it calls DEL after a failed ADD) leave nothing.
    func testAgentKilledMidRunThenTheDirectPathAndNothingLeft() throws {
        let agent = try startAgent()
        let config = try calicoIPAM(pool: fx.podCIDR, blockSize: 26)
        let pods = try (0..<12).map { try fx.makePod("akill\($0)") }
        // Killed once the agent has made a few handles: some ADDs done, others in its hands.
        let server = fx.server
        let killer = Thread {
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                let body = (try? server.curl("/apis/crd.projectcalico.org/v1/ipamhandles").body) ?? ""
                if body.components(separatedBy: "\"handleID\"").count - 1 >= 3 { break }
                usleep(5_000)
            }
            kill(agent.pid, SIGKILL)
        }
        killer.start()
        let adds = runInParallel("ADD", pods, config: config, extraEnv: viaSocket)
        agent.stop()
        XCTAssertFalse(agent.isRunning)
        for (i, r) in adds.enumerated() {
            XCTAssertTrue(r.status == 0 || r.code == ErrorCode.tryAgainLater.rawValue, "ADD \(i): \(r.stdout) \(r.stderr)")
            if r.status != 0 { XCTAssertFalse(fx.hostLinkExists(pods[i].hostVeth), "failed ADD \(i) left its link") }
        }
        let inAgent = adds.filter { $0.status == 0 && $0.stderr.contains("ipam ADD: in the agent") }.count
        print("agent killed mid-run: \(inAgent) ADDs done by the agent, \(adds.filter { $0.status != 0 }.count) answered 11, the rest direct")
        let late = try fx.makePod("akilllate")
        let add = try fx.run("ADD", late, config: config, extraEnv: viaSocket)
        XCTAssertEqual(add.status, 0, "ADD after the kill: \(add.stdout) \(add.stderr)")
        XCTAssertTrue(add.stderr.contains("calico cni ADD: api direct"), add.stderr)
        XCTAssertTrue(add.stderr.contains("ipam ADD: in the plugin (per-object requests)"), add.stderr)
        for (i, r) in runInParallel("DEL", pods + [late], config: config, extraEnv: viaSocket).enumerated() {
            XCTAssertEqual(r.status, 0, "DEL \(i): \(r.stdout) \(r.stderr)")
        }
        XCTAssertEqual(try held().allocations, 0, "no address held after the DELs")
        XCTAssertEqual(try held().handles, [])
    }

    /// An agent without the endpoint (404, as one older than it; an older one still answers
    /// 403): the plugin sends the per-object requests through it, with the same outcome.
    func testAnAgentWithoutTheEndpointGetsThePerObjectRequests() throws {
        try startAgent(extra: ["--no-agent-ipam"])
        let config = try calicoIPAM(pool: fx.podCIDR, blockSize: 26)
        let pod = try fx.makePod("aold")
        let add = try fx.run("ADD", pod, config: config, extraEnv: viaSocket)
        XCTAssertEqual(add.status, 0, "ADD: \(add.stdout) \(add.stderr)")
        XCTAssertTrue(add.stderr.contains("calico cni ADD: api via the agent socket: 1 connections, 0 direct"), add.stderr)
        XCTAssertTrue(add.stderr.contains("calico cni ipam ADD: in the plugin (per-object requests)"), add.stderr)
        XCTAssertEqual(try held().handles, ["k8s-pod-network.\(pod.containerID)"])
        let del = try fx.run("DEL", pod, config: config, extraEnv: viaSocket)
        XCTAssertEqual(del.status, 0, "DEL: \(del.stdout)")
        XCTAssertTrue(del.stderr.contains("calico cni ipam DEL: in the plugin (per-object requests)"), del.stderr)
        XCTAssertEqual(try held().allocations, 0)
        XCTAssertEqual(try held().handles, [])
    }
}
