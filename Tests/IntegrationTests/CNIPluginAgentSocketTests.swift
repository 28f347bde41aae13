@testable import CNI
@testable import Core
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The plugin's API requests through the calico-node agent's unix socket (`calico-node
/// cni-api-proxy`, what `run` serves): real pods in namespaces, host-local with usePodCidr and
/// calico-ipam, the same Pod annotations and IPAM objects as the direct path, no direct
/// connection while the agent serves; the direct path again once it is gone; refusals and
/// garbage answered without harm; the agent's own API failure is the plugin's error 11.
final class CNIPluginAgentSocketTests: CNIAgentTestCase {
    override class var fixtureTag: String { "cas" }

    /// The server's kubeconfig pointed at a port nobody listens on: a plugin that used it
    /// directly would fail, so a success proves the request went through the agent.
    private func unreachableKubeconfig() throws -> String {
        let text = try String(contentsOfFile: fx.server.tokenKubeconfig, encoding: .utf8)
        let closed = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.trimmingCharacters(in: .whitespaces).hasPrefix("server:") ? "    server: https://127.0.0.1:1" : String(line)
        }.joined(separator: "\n")
        XCTAssertNotEqual(closed, text)
        let path = fx.dir + "/unreachable.kubeconfig"
        try closed.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The agent on the test's socket, calico-ipam on CNI_PATH and an IPPool of the pod CIDR.
    private func startAgentWithCalicoIPAMPool() throws {
        try startAgent()
        try installCalicoIPAM(pool: fx.podCIDR, blockSize: 26)
    }

    private func viaSocket(_ path: String) -> [String: String] {
        ["CALICO_CNI_API_SOCKET": path, "CALICO_CNI_TIMING": "1", "CALICO_IPAM_LOCK_FILE": fx.dir + "/ipam.lock"]
    }

    private func json(_ path: String) throws -> [String: Any] {
        let r = try fx.server.curl(path)
        XCTAssertEqual(r.code, 200, "\(path): \(r.body)")
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any])
    }

    func testHostLocalPodThroughTheAgentThenDirectWhenItIsGone() throws {
        let agent = try startAgent()
        var st = stat()
        XCTAssertEqual(stat(socketPath, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o600)
        let config = fx.config(version: "1.0.0", extra: ["kubernetes": ["kubeconfig": try unreachableKubeconfig()]])
        let pod = try fx.makePod("sock1")

        let add = try fx.run("ADD", pod, config: config, extraEnv: viaSocket(socketPath))
        XCTAssertEqual(add.status, 0, "ADD through the agent: \(add.stdout) \(add.stderr)")
        let addr = try XCTUnwrap(CNIFixture.address(add.json))
        XCTAssertTrue(addr.hasPrefix(String(fx.podCIDR.dropLast(4))), "\(addr) from the Node's podCIDR \(fx.podCIDR)")
        XCTAssertTrue(add.stderr.contains("calico cni ADD: api via the agent socket: 1 connections, 0 direct"), add.stderr)
        XCTAssertFalse(add.stderr.contains("api direct"), add.stderr)
        let ann = try fx.annotations(pod)
        XCTAssertEqual(ann[PodAnnotations.podIP], "\(addr)/32")
        XCTAssertEqual(ann[PodAnnotations.podIPs], "\(addr)/32")
        XCTAssertEqual(ann[PodAnnotations.containerID], pod.containerID)
        XCTAssertTrue(fx.ping(from: nil, to: addr), "host -> pod")

        let del = try fx.run("DEL", pod, config: config, extraEnv: viaSocket(socketPath))
        XCTAssertEqual(del.status, 0, "DEL through the agent: \(del.stdout) \(del.stderr)")
        XCTAssertTrue(del.stderr.contains("calico cni DEL: api via the agent socket: 1 connections, 0 direct"), del.stderr)
        XCTAssertEqual(try fx.annotations(pod)[PodAnnotations.podIP], "")
        XCTAssertEqual(try fx.annotations(pod)[PodAnnotations.podIPs], "")
        XCTAssertEqual(fx.reservations(), [:])
        XCTAssertFalse(fx.hostLinkExists(pod.hostVeth))

        // The agent stops (a restart): the socket is gone, and the plugin goes direct with the
        // config's kubeconfig; the same annotations result.
        agent.stop()
        XCTAssertFalse(AgentSocket.isServing(socketPath))
        let direct = fx.config(version: "1.0.0")
        let again = try fx.newSandbox(of: pod)
        let add2 = try fx.run("ADD", again, config: direct, extraEnv: viaSocket(socketPath))
        XCTAssertEqual(add2.status, 0, "ADD direct: \(add2.stdout) \(add2.stderr)")
        XCTAssertTrue(add2.stderr.contains("calico cni ADD: api direct: 1 connections"), add2.stderr)
        let addr2 = try XCTUnwrap(CNIFixture.address(add2.json))
        let ann2 = try fx.annotations(again)
        XCTAssertEqual(ann2[PodAnnotations.podIP], "\(addr2)/32")
        XCTAssertEqual(ann2[PodAnnotations.podIPs], "\(addr2)/32")
        XCTAssertEqual(ann2[PodAnnotations.containerID], again.containerID)
        XCTAssertEqual(Set(ann2.keys), Set(ann.keys), "the direct path writes the same annotations")
        // A stale socket file (an agent killed without cleanup) is also passed over.
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = try UnixSocketConnection.address(socketPath)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(stale, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        close(stale)
        let del2 = try fx.run("DEL", again, config: direct, extraEnv: viaSocket(socketPath))
        XCTAssertEqual(del2.status, 0, "DEL direct: \(del2.stdout) \(del2.stderr)")
        XCTAssertTrue(del2.stderr.contains("calico cni DEL: api direct: 1 connections"), del2.stderr)
        XCTAssertEqual(try fx.annotations(again)[PodAnnotations.podIP], "")
        XCTAssertEqual(fx.reservations(), [:])
    }

    func testCalicoIPAMThroughTheAgent() throws {
        try startAgentWithCalicoIPAMPool()
        let config = fx.config(version: "1.0.0", ipam: ["type": "calico-ipam"],
                               extra: ["kubernetes": ["kubeconfig": try unreachableKubeconfig()]])
        let pod = try fx.makePod("sockipam")

        let add = try fx.run("ADD", pod, config: config, extraEnv: viaSocket(socketPath))
        XCTAssertEqual(add.status, 0, "ADD: \(add.stdout) \(add.stderr)")
        XCTAssertTrue(add.stderr.contains("calico cni ADD: api via the agent socket: 1 connections, 0 direct"), add.stderr)
        let addr = try XCTUnwrap(CNIFixture.address(add.json))
        XCTAssertEqual(try fx.annotations(pod)[PodAnnotations.podIP], "\(addr)/32")

        // The IPAM objects as calico-ipam writes them on the direct path.
        let handleName = "k8s-pod-network.\(pod.containerID)"
        let handle = try json("/apis/crd.projectcalico.org/v1/ipamhandles/\(handleName)")
        let handleSpec = try XCTUnwrap(handle["spec"] as? [String: Any])
        XCTAssertEqual(handleSpec["handleID"] as? String, handleName)
        let blocks = try XCTUnwrap(try json("/apis/crd.projectcalico.org/v1/ipamblocks")["items"] as? [[String: Any]])
        XCTAssertEqual(blocks.count, 1)
        let block = try XCTUnwrap(blocks.first?["spec"] as? [String: Any])
        let cidr = try XCTUnwrap(block["cidr"] as? String)
        XCTAssertEqual(handleSpec["block"] as? [String: Int], [cidr: 1])
        XCTAssertEqual(block["affinity"] as? String, "host:\(fx.nodeName)")
        let attributes = try XCTUnwrap(block["attributes"] as? [[String: Any]])
        XCTAssertEqual(attributes.count, 1)
        XCTAssertEqual(attributes.first?["handle_id"] as? String, handleName)
        XCTAssertEqual((attributes.first?["secondary"] as? [String: String])?["pod"], "sockipam")
        XCTAssertEqual((block["allocations"] as? [Any])?.filter { !($0 is NSNull) }.count, 1)
        let affinities = try XCTUnwrap(try json("/apis/crd.projectcalico.org/v1/blockaffinities")["items"] as? [[String: Any]])
        XCTAssertEqual(affinities.compactMap { ($0["spec"] as? [String: Any])?["state"] as? String }, ["confirmed"])

        let del = try fx.run("DEL", pod, config: config, extraEnv: viaSocket(socketPath))
        XCTAssertEqual(del.status, 0, "DEL: \(del.stdout) \(del.stderr)")
        XCTAssertTrue(del.stderr.contains("calico cni DEL: api via the agent socket: 1 connections, 0 direct"), del.stderr)
        XCTAssertEqual(try fx.server.curl("/apis/crd.projectcalico.org/v1/ipamhandles/\(handleName)").code, 404)
        let after = try XCTUnwrap(try json("/apis/crd.projectcalico.org/v1/ipamblocks")["items"] as? [[String: Any]])
        let left = after.flatMap { (($0["spec"] as? [String: Any])?["allocations"] as? [Any] ?? []).filter { !($0 is NSNull) } }
        XCTAssertEqual(left.count, 0, "DEL released the address")
        XCTAssertEqual(try fx.annotations(pod)[PodAnnotations.podIP], "")
    }

    /// CHECK, STATUS and GC (spec 1.1.0) of calico-ipam make only requests the agent forwards.
    func testCheckStatusAndGCWithCalicoIPAMThroughTheAgent() throws {
        try startAgentWithCalicoIPAMPool()
        // Our own veth prefix: GC removes every veth of the prefix that no valid attachment owns.
        let config = fx.config(version: "1.1.0", ipam: ["type": "calico-ipam"],
                               extra: ["kubernetes": ["kubeconfig": try unreachableKubeconfig()], "interface_prefix": "cas9"])
        let keep = try fx.makePod("sockkeep")
        let stale = try fx.makePod("sockstale")
        let env = viaSocket(socketPath)
        var kept: [String: Any] = [:]
        for p in [keep, stale] {
            let r = try fx.run("ADD", p, config: config, extraEnv: env)
            XCTAssertEqual(r.status, 0, "ADD \(p.name): \(r.stdout) \(r.stderr)")
            if p.name == keep.name { kept = r.json }
        }
        var check = config
        check["prevResult"] = kept
        let c = try fx.run("CHECK", keep, config: check, extraEnv: env)
        XCTAssertEqual(c.status, 0, "CHECK: \(c.stdout) \(c.stderr)")
        let st = try fx.run("STATUS", nil, config: config, extraEnv: env)
        XCTAssertEqual(st.status, 0, "STATUS: \(st.stdout) \(st.stderr)")

        var gc = config
        gc["cni.dev/valid-attachments"] = [["containerID": keep.containerID, "ifname": "eth0"]]
        let g = try fx.run("GC", nil, config: gc, extraEnv: env)
        XCTAssertEqual(g.status, 0, "GC: \(g.stdout) \(g.stderr)")
        let handles = try XCTUnwrap(try json("/apis/crd.projectcalico.org/v1/ipamhandles")["items"] as? [[String: Any]])
        XCTAssertEqual(handles.compactMap { ($0["metadata"] as? [String: Any])?["name"] as? String }, ["k8s-pod-network.\(keep.containerID)"])

        let d = try fx.run("DEL", keep, config: config, extraEnv: env)
        XCTAssertEqual(d.status, 0, "DEL: \(d.stdout) \(d.stderr)")
        XCTAssertEqual((try json("/apis/crd.projectcalico.org/v1/ipamhandles")["items"] as? [Any])?.count, 0)
        XCTAssertFalse(try KernelFixture.ip(nil, ["-o", "link"]).contains(": cas9"), "GC removed the stale pod's veth, DEL the other")
    }

    func testRefusalsAndGarbageLeaveTheAgentServing() async throws {
        try startAgent()
        let client = KubeClient.viaAgentSocket(socketPath)
        let secrets = try await client.raw(method: "GET", path: "/api/v1/namespaces/kube-system/secrets")
        XCTAssertEqual(secrets.status, 403, String(decoding: secrets.body, as: UTF8.self))
        let status = try JSONDecoder().decode(APIStatus.self, from: secrets.body)
        XCTAssertEqual(status.reason, "Forbidden")
        XCTAssertTrue(status.message?.contains("does not forward GET /api/v1/namespaces/kube-system/secrets") == true, "\(status)")
        let deletePool = try await client.raw(method: "DELETE", path: "/apis/crd.projectcalico.org/v1/ippools/default-ipv4-ippool")
        XCTAssertEqual(deletePool.status, 403)

        for garbage in ["\u{0}\u{1}\u{2}garbage\r\n\r\n", "GET /api/v1/nodes/x HTTP/1.1\r\nContent-Length: -5\r\n\r\n"] {
            let fd = try UnixSocketConnection.connect(socketPath, timeout: 1)
            _ = UnixSocketConnection.writeAll(fd, Data(garbage.utf8))
            UnixSocketConnection.setTimeout(fd, SO_RCVTIMEO, 5)
            var buffer = [UInt8](repeating: 0, count: 1024)
            let n = recv(fd, &buffer, buffer.count, 0)
            close(fd)
            XCTAssertGreaterThan(n, 0)
            if n > 0 { XCTAssertTrue(String(decoding: buffer[..<n], as: UTF8.self).hasPrefix("HTTP/1.1 400"), String(decoding: buffer[..<n], as: UTF8.self)) }
        }
        // Still serving: the real API answers through it.
        let node = try await client.get(K8sNode.self, name: fx.nodeName, namespace: nil)
        XCTAssertEqual(node.spec?.podCIDR, fx.podCIDR)
        XCTAssertTrue(agents[0].isRunning)
        XCTAssertFalse(agents[0].output().contains("token"), "the agent logged nothing about tokens")
    }

    func testTheAgentsOwnAPIFailureIsTryAgainLaterAndHoldsNothing() throws {
        // An agent whose API server cannot be reached.
        try startAgent(kubeconfig: try unreachableKubeconfig())
        let pod = try fx.makePod("sockdown")
        let config = fx.config(version: "1.0.0", ipam: ["type": "host-local", "subnet": "100.100.78.0/24", "dataDir": fx.dataDir])
        let r = try fx.run("ADD", pod, config: config, extraEnv: viaSocket(socketPath))
        XCTAssertEqual(r.status, 1, r.stdout)
        XCTAssertEqual(r.code, ErrorCode.tryAgainLater.rawValue, r.stdout)
        let msg = r.json["msg"] as? String ?? ""
        XCTAssertTrue(msg.contains("annotate Pod default/sockdown") && msg.contains("the agent cannot reach the Kubernetes API"), msg)
        XCTAssertEqual(fx.reservations(), [:], "addresses held")
        XCTAssertFalse(fx.hostLinkExists(pod.hostVeth), "host veth left")
        XCTAssertEqual(try KernelFixture.ip(nil, ["-4", "route", "show", "root", "100.100.78.0/24"]), "")
    }
}
