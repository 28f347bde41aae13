import Core
import Foundation
import XCTest

/// `calico-node run` as the DaemonSet runs it, on a two-node dev cluster: startup, felix and
/// BGP in one process per node, probes passing, pods on different nodes reaching each other
/// over BGP-learned routes, and a clean exit on SIGTERM.
final class StartupRunTests: XCTestCase {
    private var cluster: DevClusterDriver?
    private var processes: [Process] = []
    private var tmp = ""

    override func setUpWithError() throws {
        tmp = NSTemporaryDirectory() + "runf-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
    }

    override func tearDown() {
        for p in processes where p.isRunning { p.terminate(); p.waitUntilExit() }
        cluster?.down()
        try? FileManager.default.removeItem(atPath: tmp)
    }

    private func log(_ node: String) -> String { (try? String(contentsOfFile: tmp + "/\(node).log", encoding: .utf8)) ?? "" }

    /// `calico-node run` inside the node's namespace, as its container would.
    private func run(_ cluster: DevClusterDriver, node: String, env extra: [String: String]) throws -> Process {
        var env = ProcessInfo.processInfo.environment
        for k in ["K8S_API_ENDPOINT", "K8S_TOKEN", "K8S_CA_FILE", "K8S_CERT_FILE", "K8S_KEY_FILE", "IP"] { env.removeValue(forKey: k) }
        env["KUBECONFIG"] = cluster.kubeconfig
        env["NODENAME"] = node
        env["CALICO_BGP_GRACEFUL_RESTART"] = "true" // the graceful stop is opt-in; this test checks it records the stop
        env["CALICO_BGP_RESTART_STATE_FILE"] = tmp + "/\(node).bgp-graceful-restart" // not the host's /var/run/calico
        env["CALICO_CNI_API_SOCKET"] = tmp + "/\(node).cni-api.sock" // not the host's: other tests' plugins would use it
        env.merge(extra) { $1 }
        let path = tmp + "/\(node).log"
        FileManager.default.createFile(atPath: path, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        p.arguments = ["netns", "exec", cluster.nodeNetns(node), try DevClusterDriver.calicoNodePath(), "run",
                       "--nodename-file", tmp + "/\(node).nodename"]
        p.environment = env
        p.standardOutput = out
        p.standardError = out
        try p.run()
        processes.append(p)
        return p
    }

    private func eventually(_ seconds: Double, _ what: String, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return }
            usleep(250_000)
        }
        XCTFail("timed out after \(seconds)s waiting for \(what)")
    }

    func testRunStartsBothRolesPassesProbesRoutesAndStopsCleanly() throws {
        let c = try DevClusterDriver.up(nodes: 2)
        cluster = c
        let env = ["CALICO_IPV4POOL_CIDR": "10.244.0.0/16", "USE_POD_CIDR": "true", "IP_AUTODETECTION_METHOD": "interface=eth0",
                   "CALICO_NETWORKING_BACKEND": "bird", "FELIX_DEFAULTENDPOINTTOHOSTACTION": "Accept"]
        let p1 = try run(c, node: "node-1", env: env)
        _ = try run(c, node: "node-2", env: env)
        let calicoNode = try DevClusterDriver.calicoNodePath()
        for node in ["node-1", "node-2"] {
            try eventually(60, "\(node) ready") {
                try c.exec(node, [calicoNode, "check", "-felix-ready", "-bird-ready", "-felix-live", "-bird-live"]).status == 0
            }
        }
        XCTAssertTrue(log("node-1").contains("startup complete for node node-1"), log("node-1"))
        XCTAssertTrue(AgentSocket.isServing(tmp + "/node-1.cni-api.sock"), "run serves the CNI plugins' API socket")
        let status = try c.exec("node-1", [calicoNode, "ctl", "node", "status"])
        XCTAssertTrue(status.out.contains("Established"), status.out + status.err)

        let a = try c.podAdd(node: "node-1", name: "run-a")
        let b = try c.podAdd(node: "node-2", name: "run-b")
        XCTAssertFalse(a.isEmpty || b.isEmpty)
        try eventually(30, "run-a reaching run-b over the BGP route") {
            try c.exec("default/run-a", ["ping", "-c", "1", "-W", "1", b[0].components(separatedBy: "/")[0]]).status == 0
        }

        p1.terminate()  // SIGTERM, as the kubelet stops the container
        let deadline = Date().addingTimeInterval(20)
        while p1.isRunning && Date() < deadline { usleep(100_000) }
        XCTAssertFalse(p1.isRunning, "run must exit on SIGTERM")
        XCTAssertEqual(p1.terminationStatus, 0, log("node-1"))
        XCTAssertTrue(log("node-1").contains("calico-node stopped"), log("node-1"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp + "/node-1.cni-api.sock"), "the socket is removed at exit")
        XCTAssertTrue(FileManager.default.fileExists(atPath: tmp + "/node-1.bgp-graceful-restart"), "SIGTERM stopped BGP for a graceful restart")
    }

    func testPolicyOnlyRunsFelixAlone() throws {
        let c = try DevClusterDriver.up(nodes: 1)
        cluster = c
        let p = try run(c, node: "node-1", env: ["CALICO_NETWORKING_BACKEND": "none", "USE_POD_CIDR": "true",
                                                 "IP_AUTODETECTION_METHOD": "interface=eth0", "NO_DEFAULT_POOLS": "true"])
        let calicoNode = try DevClusterDriver.calicoNodePath()
        try eventually(60, "felix ready") { try c.exec("node-1", [calicoNode, "check", "-felix-ready"]).status == 0 }
        let bird = try c.exec("node-1", [calicoNode, "check", "-bird-ready"])
        XCTAssertEqual(bird.status, 1)
        XCTAssertTrue(bird.err.contains("bgp is not running in this calico-node"), bird.err)
        XCTAssertTrue(log("node-1").contains("running felix for node node-1"), log("node-1"))
        p.terminate()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, log("node-1"))
    }
}
