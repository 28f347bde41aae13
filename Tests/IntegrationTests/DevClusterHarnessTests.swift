import Core
import Foundation
import XCTest

/// `calico-devcluster up/pod/exec/down` as root, in real network namespaces.
final class DevClusterHarnessTests: XCTestCase {
    private func netnsList() throws -> String { try DevServer.run("/usr/sbin/ip", ["netns", "list"]).out }
    private func linkList() throws -> String { try DevServer.run("/usr/sbin/ip", ["-o", "link", "show"]).out }

    /// Alive and not a zombie (an exited daemon waits for its reaper, PID 1, not for us).
    static func isRunning(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    private func assertGone(_ cluster: DevClusterDriver, apiServerPid: Int32?, file: StaticString = #filePath, line: UInt = #line) throws {
        let leftNetns = try netnsList().split(separator: "\n").filter { $0.hasPrefix(cluster.name + "-") }
        XCTAssertEqual(leftNetns, [], "namespaces left", file: file, line: line)
        XCTAssertFalse(try linkList().contains("\(cluster.name)-ul"), "root link left", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: cluster.dataDir), "data dir left", file: file, line: line)
        if let pid = apiServerPid { XCTAssertFalse(Self.isRunning(pid), "API server still running", file: file, line: line) }
    }

    func testReferencePluginsPodsAcrossNodesAndCleanTeardown() throws {
        let cluster = try DevClusterDriver.up(nodes: 2, cni: "reference", staticRoutes: true)
        defer { cluster.down() }
        let state = try cluster.state()
        let pid = state["apiServer"]?["pid"]?.intValue.map(Int32.init)
        XCTAssertNotNil(pid)

        // Nodes: namespaces with eth0 on the underlay, forwarding on, registered with podCIDR and address annotation.
        let eth0 = try cluster.exec("node-2", ["ip", "-o", "-4", "addr", "show", "dev", "eth0"])
        XCTAssertTrue(eth0.out.contains("inet \(cluster.underlay.replacingOccurrences(of: ".0/24", with: ".12/24"))"), eth0.out)
        XCTAssertEqual(try cluster.exec("node-1", ["cat", "/proc/sys/net/ipv4/ip_forward"]).out, "1\n")
        let server = try XCTUnwrap(state["apiServer"]?["url"]?.stringValue)
        let nodes = try DevServer.run("/usr/bin/kubectl", ["--kubeconfig", cluster.kubeconfig, "get", "nodes", "-o", "json"])
        XCTAssertEqual(nodes.status, 0, nodes.err)
        let nodeJSON = try JSONValue(data: Data(nodes.out.utf8))["items"]?.arrayValue ?? []
        XCTAssertEqual(nodeJSON.map { $0["spec"]?["podCIDR"]?.stringValue }, ["10.244.1.0/24", "10.244.2.0/24"])
        XCTAssertEqual(nodeJSON.first?["metadata"]?["annotations"]?["projectcalico.org/IPv4Address"]?.stringValue,
                       cluster.underlay.replacingOccurrences(of: ".0/24", with: ".11/24"))
        // The API server is reachable from inside a node (as the CNI plugin needs), and its
        // certificate is valid for the underlay address.
        let token = try String(contentsOfFile: cluster.dataDir + "/apiserver/token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let health = try cluster.exec("node-1", ["curl", "-sS", "--cacert", cluster.dataDir + "/apiserver/ca.crt",
                                                 "-H", "Authorization: Bearer \(token)", server + "/healthz"])
        XCTAssertEqual(health.out, "ok", health.err)

        let a = try cluster.podAdd(node: "node-1", name: "a", labels: ["app": "web"], ports: ["http=80"])
        let b = try cluster.podAdd(node: "node-1", name: "b")
        let c = try cluster.podAdd(node: "node-2", namespace: "team", name: "c")
        XCTAssertTrue(a.first?.hasPrefix("10.244.1.") == true, "\(a)")
        XCTAssertTrue(c.first?.hasPrefix("10.244.2.") == true, "\(c)")
        XCTAssertEqual(Set(a + b + c).count, 3)

        // The pod's eth0 has the address; the host side lives in the node's namespace.
        let podAddr = try cluster.exec("default/a", ["ip", "-o", "-4", "addr", "show", "dev", "eth0"])
        XCTAssertTrue(podAddr.out.contains("inet \(a[0])/"), podAddr.out)
        let hostRoutes = try cluster.exec("node-1", ["ip", "route", "show"])
        XCTAssertTrue(hostRoutes.out.contains(a[0]), hostRoutes.out)
        // Same node, across nodes (static routes), and the pod object has its IP and labels.
        for (from, to) in [("default/a", b[0]), ("default/a", c[0]), ("team/c", b[0])] {
            let ping = try cluster.exec(from, ["ping", "-c1", "-W2", to])
            XCTAssertEqual(ping.status, 0, "\(from) -> \(to): \(ping.out)\(ping.err)")
        }
        let pod = try DevServer.run("/usr/bin/kubectl", ["--kubeconfig", cluster.kubeconfig, "get", "pod", "a", "-o", "json"])
        let podJSON = try JSONValue(data: Data(pod.out.utf8))
        XCTAssertEqual(podJSON["status"]?["podIP"]?.stringValue, a[0])
        XCTAssertEqual(podJSON["spec"]?["nodeName"]?.stringValue, "node-1")
        XCTAssertEqual(podJSON["metadata"]?["labels"]?["app"]?.stringValue, "web")
        XCTAssertEqual(podJSON["spec"]?["containers"]?.arrayValue?.first?["ports"]?.arrayValue?.first?["name"]?.stringValue, "http")

        // pod del: DEL ran (the address is free again), the netns and the Pod are gone.
        try cluster.podDel(name: "b")
        XCTAssertFalse(try netnsList().contains("\(cluster.name)-pod-default_b"))
        XCTAssertNotEqual(try cluster.exec("default/b", ["true"]).status, 0)
        let gone = try DevServer.run("/usr/bin/kubectl", ["--kubeconfig", cluster.kubeconfig, "get", "pod", "b"])
        XCTAssertNotEqual(gone.status, 0)
        let ipamFiles = try FileManager.default.contentsOfDirectory(atPath: cluster.dataDir + "/nodes/node-1/ipam/k8s-pod-network")
        XCTAssertTrue(ipamFiles.contains(a[0]))
        XCTAssertFalse(ipamFiles.contains(b[0]))
        // The address is handed out again.
        let b2 = try cluster.podAdd(node: "node-1", name: "b2")
        XCTAssertEqual(b2.count, 1)

        cluster.down()
        try assertGone(cluster, apiServerPid: pid)
    }

    func testNodeCommandsSeeTheClusterAsThatNode() throws {
        let cluster = try DevClusterDriver.up(nodes: 1, cni: "reference")
        defer { cluster.down() }
        // `exec node-1` sets NODENAME and KUBECONFIG; calico-node ctl reaches the API from the node.
        let env = try cluster.exec("node-1", ["sh", "-c", "echo $NODENAME; $0 ctl get nodes", try DevClusterDriver.calicoNodePath()])
        XCTAssertEqual(env.status, 0, env.err)
        XCTAssertTrue(env.out.hasPrefix("node-1\n"), env.out)
        XCTAssertTrue(env.out.contains("node-1"), env.out)
        // A background process in the node's namespace, stopped by the driver.
        let p = try cluster.background(node: "node-1", ["sh", "-c", "echo $NODENAME; ip -o -4 addr show dev eth0; exec sleep 30"])
        XCTAssertTrue(p.waitForOutput { $0.contains("eth0") }, p.output())
        XCTAssertTrue(p.output().hasPrefix("node-1\n"))
        p.stop()
        XCTAssertFalse(p.isRunning)
    }

    func testFailedUpLeavesNothing() throws {
        let name = "tf" + String(UUID().uuidString.lowercased().filter(\.isHexDigit).prefix(6))
        let dir = NSTemporaryDirectory() + "devcluster-\(name)"
        let r = try DevServer.run(try DevServer.binaryPath(), ["up", "--nodes", "2", "--name", name, "--data-dir", dir,
                                                               "--underlay-cidr", "172.31.\(Int.random(in: 100...250)).0/24",
                                                               "--calico-node", "/bin/false"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("install-cni for node-") && r.err.contains("failed"), r.err)
        XCTAssertEqual(try netnsList().split(separator: "\n").filter { $0.hasPrefix(name + "-") }, [])
        XCTAssertFalse(try linkList().contains("\(name)-ul"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir))
        // No API server of this cluster is left running.
        let procs = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        let servers = procs.filter { pid in
            guard Int(pid) != nil, let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: data, as: UTF8.self).contains("\(dir)/apiserver")
        }
        XCTAssertEqual(servers, [])
    }

    func testBadArgumentsAreRejectedBeforeAnythingIsMade() throws {
        let bin = try DevServer.binaryPath()
        let dir = NSTemporaryDirectory() + "devcluster-bad-\(getpid())"
        let badName = try DevServer.run(bin, ["up", "--name", "Bad_Name", "--data-dir", dir])
        XCTAssertNotEqual(badName.status, 0)
        XCTAssertTrue(badName.err.contains("cluster name"), badName.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir))
        let noCluster = try DevServer.run(bin, ["pod", "add", "node-1", "default", "x", "--data-dir", dir])
        XCTAssertNotEqual(noCluster.status, 0)
        XCTAssertTrue(noCluster.err.contains("calico-devcluster up"), noCluster.err)
    }
}
