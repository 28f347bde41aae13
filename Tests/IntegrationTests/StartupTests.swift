import Core
import Foundation
import XCTest

/// Startup against the development API server, with autodetection over real interfaces in a
/// network namespace, and the `calico-node startup` binary waiting for an API that comes late.
final class StartupTests: XCTestCase {
    private var server: DevServer?
    private var namespace = ""
    private var tmp = ""

    override func setUpWithError() throws {
        tmp = NSTemporaryDirectory() + "stf-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
    }

    override func tearDown() {
        server?.stop()
        if !namespace.isEmpty { _ = try? DevServer.run("/usr/sbin/ip", ["netns", "del", namespace]) }
        try? FileManager.default.removeItem(atPath: tmp)
    }

    private func ip(_ args: String) throws {
        let r = try DevServer.run("/usr/sbin/ip", ["-n", namespace] + args.split(separator: " ").map(String.init))
        guard r.status == 0 else { throw DevServerError("ip \(args): \(r.err)") }
    }

    /// eth0 10.31.0.5/24 (default route), ens5 192.168.77.5/24 + 2001:db8:77::5/64 (route to
    /// 203.0.113.0/24), docker0 172.17.0.1/16, all up.
    private func makeNamespace() throws -> NetNamespace {
        namespace = "stf\(getpid())\(Int.random(in: 100...999))"
        let r = try DevServer.run("/usr/sbin/ip", ["netns", "add", namespace])
        guard r.status == 0 else { throw DevServerError("ip netns add: \(r.err)") }
        try ip("link set lo up")
        // veth pairs (dummy links need a kernel module a container may lack); the peers are
        // named veth*, which autodetection excludes.
        for link in ["docker0", "eth0", "ens5"] {
            try ip("link add \(link) type veth peer name veth\(link)")
            try ip("link set \(link) up")
            try ip("link set veth\(link) up")
        }
        try ip("addr add 172.17.0.1/16 dev docker0")
        try ip("addr add 10.31.0.5/24 dev eth0")
        try ip("addr add 192.168.77.5/24 dev ens5")
        try ip("addr add 2001:db8:77::5/64 dev ens5 nodad")
        try ip("route add default via 10.31.0.1 dev eth0")
        try ip("route add 203.0.113.0/24 via 192.168.77.1 dev ens5")
        return NetNamespace.named(namespace)
    }

    private func client() throws -> KubeClient {
        var env = ProcessInfo.processInfo.environment
        env["KUBECONFIG"] = server!.tokenKubeconfig
        for k in ["K8S_API_ENDPOINT", "K8S_TOKEN", "K8S_CA_FILE", "K8S_CERT_FILE", "K8S_KEY_FILE"] { env.removeValue(forKey: k) }
        return try KubeClient(connection: DatastoreConfig.load(environment: env))
    }

    private func registerNode(_ name: String, podCIDR: String?, internalIP: String? = nil) throws {
        var node: [String: Any] = ["apiVersion": "v1", "kind": "Node", "metadata": ["name": name]]
        if let podCIDR { node["spec"] = ["podCIDR": podCIDR] }
        let body = String(decoding: try JSONSerialization.data(withJSONObject: node), as: UTF8.self)
        let r = try server!.curl("/api/v1/nodes", method: "POST", body: body)
        XCTAssertEqual(r.code, 201, r.body)
        if let internalIP {
            let status = #"{"status":{"addresses":[{"type":"InternalIP","address":"\#(internalIP)"}]}}"#
            let p = try server!.curl("/api/v1/nodes/\(name)/status", method: "PATCH", body: status, contentType: "application/merge-patch+json")
            XCTAssertEqual(p.code, 200, p.body)
        }
    }

    func testEveryAutodetectionMethodOverRealInterfaces() async throws {
        server = try DevServer.start(dataDir: tmp + "/api")
        let ns = try makeNamespace()
        try registerNode("node-a", podCIDR: "10.244.1.0/24", internalIP: "10.31.0.5")
        let host = NodeStartup.Host(interfaces: { () throws(StartupError) in
            let netlink: Netlink
            do { netlink = try Netlink(in: ns) } catch { throw StartupError.hostNetwork("\(error)") }
            return try HostNetworkProbe.interfaces(netlink: netlink)
        }, sourceAddress: { destination, family in
            (try? ns.run { HostNetworkProbe.sourceAddress(towards: destination, family: family) }) ?? nil
        })
        let api = try client()
        let cases: [(env: [String: String], v4: String?, v6: String?)] = [
            (["IP_AUTODETECTION_METHOD": "first-found"], "10.31.0.5/24", nil),
            (["IP_AUTODETECTION_METHOD": "can-reach=203.0.113.9"], "192.168.77.5/24", nil),
            (["IP_AUTODETECTION_METHOD": "can-reach=198.51.100.1"], "10.31.0.5/24", nil),
            (["IP_AUTODETECTION_METHOD": "interface=ens.*"], "192.168.77.5/24", nil),
            (["IP_AUTODETECTION_METHOD": "skip-interface=eth0,docker.*"], "192.168.77.5/24", nil),
            (["IP_AUTODETECTION_METHOD": "cidr=192.168.0.0/16"], "192.168.77.5/24", nil),
            (["IP_AUTODETECTION_METHOD": "kubernetes-internal-ip"], "10.31.0.5/24", nil),
            (["IP": "none", "IP6": "autodetect", "IP6_AUTODETECTION_METHOD": "interface=ens5"], nil, "2001:db8:77::5/64"),
        ]
        for c in cases {
            let settings = try StartupSettings.parse(c.env.merging(["USE_POD_CIDR": "true", "AS": "64600"]) { a, _ in a })
            let startup = NodeStartup(api: api, settings: settings, nodeName: "node-a", nodenameFile: tmp + "/nodename", host: host,
                                      wait: APIWait(timeout: .seconds(5)))
            let report = try await startup.run()
            XCTAssertEqual(report.ipv4?.description, c.v4, "\(c.env)")
            XCTAssertEqual(report.ipv6?.description, c.v6, "\(c.env)")
            let node = try await api.get(K8sNode.self, name: "node-a", namespace: nil)
            XCTAssertEqual(node.metadata.annotations?["projectcalico.org/IPv4Address"], c.v4, "\(c.env)")
            XCTAssertEqual(node.metadata.annotations?["projectcalico.org/IPv6Address"], c.v6, "\(c.env)")
            XCTAssertEqual(node.metadata.annotations?["projectcalico.org/ASNumber"], "64600")
        }
        let settings = try StartupSettings.parse(["IP_AUTODETECTION_METHOD": "interface=wlan.*"])
        let failing = NodeStartup(api: api, settings: settings, nodeName: "node-a", nodenameFile: tmp + "/nodename", host: host)
        do {
            _ = try await failing.run()
            XCTFail("expected no address")
        } catch {
            XCTAssertTrue(error.description.contains("no up interface matches; interfaces: lo, "), error.description)
            XCTAssertTrue(error.description.contains("set IP to this node's address"), error.description)
        }
    }

    /// `calico-node startup` with `env`, its output going to a file in tmp.
    private func startup(_ env: [String: String]) throws -> (Process, String) {
        var e = ProcessInfo.processInfo.environment
        for k in ["K8S_API_ENDPOINT", "K8S_TOKEN", "K8S_CA_FILE", "K8S_CERT_FILE", "K8S_KEY_FILE", "NODENAME", "IP", "AS"] { e.removeValue(forKey: k) }
        e.merge(env) { _, b in b }
        let log = tmp + "/startup-\(UUID().uuidString).log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try CheckCommandTests.calicoNode())
        p.arguments = ["startup", "--nodename-file", tmp + "/nodename", "--api-timeout", "60"]
        p.environment = e
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        return (p, log)
    }

    private func finish(_ p: Process, _ log: String, timeout: TimeInterval) -> (status: Int32?, output: String) {
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        if p.isRunning { p.terminate(); p.waitUntilExit(); return (nil, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "") }
        return (p.terminationStatus, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    func testBinaryWaitsForTheAPIThenRegisters() async throws {
        // Learn a port and the server's credentials, then take the API away.
        server = try DevServer.start(dataDir: tmp + "/api")
        try registerNode("node-b", podCIDR: "10.244.2.0/24")
        server!.stop()

        let (p, log) = try startup(["KUBECONFIG": server!.tokenKubeconfig, "NODENAME": "node-b", "IP": "10.77.0.9/24",
                                    "CALICO_IPV4POOL_CIDR": "10.244.0.0/16", "USE_POD_CIDR": "true"])
        try await Task.sleep(for: .seconds(2))
        XCTAssertTrue(p.isRunning, "startup must wait for the API, not exit")
        try server!.restart()
        let (status, output) = finish(p, log, timeout: 40)
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("waiting for the Kubernetes API"), output)
        XCTAssertTrue(output.contains("startup complete for node node-b"), output)

        let api = try client()
        let node = try await api.get(K8sNode.self, name: "node-b", namespace: nil)
        XCTAssertEqual(node.metadata.annotations?["projectcalico.org/IPv4Address"], "10.77.0.9/24")
        XCTAssertEqual(node.status?.conditions?.first { $0.type == "NetworkUnavailable" }?.status, "False")
        let pool = try await api.get(IPPool.self, name: "default-ipv4-ippool", namespace: nil)
        XCTAssertEqual(pool.spec.cidr, "10.244.0.0/16")
        XCTAssertEqual(pool.spec.blockSize, 26)
        let info = try await api.get(ClusterInformation.self, name: "default", namespace: nil)
        XCTAssertEqual(info.spec.datastoreReady, true)
        XCTAssertEqual(try String(contentsOfFile: tmp + "/nodename", encoding: .utf8), "node-b")
    }

    func testNodeWithoutPodCIDRUnderHostLocalIsAClearError() async throws {
        server = try DevServer.start(dataDir: tmp + "/api")
        try registerNode("node-c", podCIDR: nil)
        let (p, log) = try startup(["KUBECONFIG": server!.tokenKubeconfig, "NODENAME": "node-c", "IP": "10.77.0.10/24", "USE_POD_CIDR": "true"])
        let (status, output) = finish(p, log, timeout: 30)
        XCTAssertEqual(status, 1, output)
        XCTAssertTrue(output.contains("Node \"node-c\" has no spec.podCIDR"), output)
        XCTAssertTrue(output.contains("--allocate-node-cidrs=true"), output)
    }
}
