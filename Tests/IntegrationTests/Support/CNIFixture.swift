import CNI
import Core
import Foundation
import IPAM
import XCTest

/// One "node" for the CNI integration tests: the test's own network namespace is the host, a
/// dev API server holds the Node (with its podCIDR) and the Pods, a temporary CNI bin dir
/// holds `calico` (a link to the built calico-node), `host-local` (Debian's) and any fake IPAM
/// plugin, and every pod is a named netns. Everything made is tagged with `tag` and removed
/// by `tearDown()`, whatever happened.
final class CNIFixture: @unchecked Sendable {
    let tag: String
    let server: DevServer
    let dir: String
    let binDir: String
    let dataDir: String
    let nodeName: String
    /// A /24 of 100.64.0.0/10 chosen from the pid and a counter, so parallel runs do not meet.
    let podCIDR: String
    /// Where the plugin caches the Node's pod CIDRs (usePodCidr).
    var podCIDRCacheDir: String { dir + "/podcidrs" }
    /// An address on the host (on a veth of ours) the pods can ping.
    let hostAddress: String
    private let hostVethA: String
    private var namespaces: Set<String> = []
    private var hostVeths: Set<String> = []
    private let lock = NSLock()

    private static let counter = LockedBox(0)

    init(tag: String) throws {
        let seq = Self.counter.withLock { (v: inout Int) -> Int in v += 1; return v }
        self.tag = tag
        dir = NSTemporaryDirectory() + "cni-\(tag)-\(getpid())-\(seq)"
        binDir = dir + "/bin"
        dataDir = dir + "/ipam"
        try FileManager.default.createDirectory(atPath: binDir, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: binDir + "/calico", withDestinationPath: try Self.calicoNodeBinary())
        try FileManager.default.createSymbolicLink(atPath: binDir + "/host-local", withDestinationPath: "/usr/lib/cni/host-local")
        let third = Int(getpid() % 200) + seq
        let second = 64 + Int(getpid() / 200 % 60)
        podCIDR = "100.\(second).\(third % 256).0/24"
        hostAddress = "100.\(second).\(third % 256).254"
        nodeName = "\(tag)-node-\(getpid())-\(seq)"
        server = try DevServer.start(dataDir: dir + "/api")
        hostVethA = "\(tag)h\(getpid() % 10000)\(seq)"
        let node = """
        {"apiVersion":"v1","kind":"Node","metadata":{"name":"\(nodeName)"},"spec":{"podCIDR":"\(podCIDR)","podCIDRs":["\(podCIDR)"]}}
        """
        let made = try server.curl("/api/v1/nodes", method: "POST", body: node)
        guard made.code == 201 || made.code == 200 else { throw DevServerError("create Node: HTTP \(made.code) \(made.body)") }
        // The host's own address, on a veth pair of ours (this kernel has no dummy links).
        try KernelFixture.ip(nil, ["link", "add", hostVethA, "type", "veth", "peer", "name", hostVethA + "p"])
        try KernelFixture.ip(nil, ["addr", "add", hostAddress + "/32", "dev", hostVethA])
        try KernelFixture.ip(nil, ["link", "set", hostVethA, "up"])
        try KernelFixture.ip(nil, ["link", "set", hostVethA + "p", "up"])
    }

    func tearDown() {
        let (spaces, veths) = lock.withLock { (namespaces, hostVeths) }
        for n in spaces { try? NetNamespace.delete(name: n) }
        for v in veths { _ = try? KernelFixture.ip(nil, ["link", "del", v]) }
        _ = try? KernelFixture.ip(nil, ["link", "del", hostVethA])
        server.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    static func calicoNodeBinary() throws -> String {
        let devcluster = try DevServer.binaryPath()
        let path = URL(fileURLWithPath: devcluster).deletingLastPathComponent().appendingPathComponent("calico-node").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw DevServerError("calico-node not found next to \(devcluster); run `swift build`")
        }
        return path
    }

    // MARK: pods

    /// A pod: its netns (made now), the Pod object (unless `createObject` is false) and the
    /// host veth name the plugin will use.
    struct PodRef {
        var name: String
        var netnsName: String
        var containerID: String
        var netns: String { NetNamespace.named(netnsName).path }
        var hostVeth: String { CalicoNames.hostVethName(namespace: "default", pod: name) }
    }

    func makePod(_ name: String, createObject: Bool = true) throws -> PodRef {
        let nsName = "\(tag)\(getpid() % 10000)-\(name)"
        try NetNamespace.create(name: nsName)
        let ref = PodRef(name: name, netnsName: nsName, containerID: "\(tag)\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())")
        lock.withLock {
            namespaces.insert(nsName)
            hostVeths.insert(ref.hostVeth)
        }
        if createObject {
            let pod = """
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"\(name)","namespace":"default"},"spec":{"nodeName":"\(nodeName)","containers":[{"name":"c","image":"pause"}]}}
            """
            let r = try server.curl("/api/v1/namespaces/default/pods", method: "POST", body: pod)
            guard r.code == 201 || r.code == 200 else { throw DevServerError("create Pod \(name): HTTP \(r.code) \(r.body)") }
        }
        return ref
    }

    /// A new sandbox of the same pod (the kubelet recreating it): another netns and container ID.
    func newSandbox(of pod: PodRef) throws -> PodRef {
        var next = pod
        next.netnsName = pod.netnsName + "-2"
        next.containerID = pod.containerID + "2"
        try NetNamespace.create(name: next.netnsName)
        lock.withLock { _ = namespaces.insert(next.netnsName) }
        return next
    }

    func removeNetns(_ pod: PodRef) throws {
        try NetNamespace.delete(name: pod.netnsName)
        lock.withLock { _ = namespaces.remove(pod.netnsName) }
    }

    func annotations(_ pod: PodRef) throws -> [String: String] {
        let r = try server.curl("/api/v1/namespaces/default/pods/\(pod.name)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any]
        return (obj?["metadata"] as? [String: Any])?["annotations"] as? [String: String] ?? [:]
    }

    // MARK: the plugin

    /// The network config: calico with host-local on the Node's podCIDR (usePodCidr) unless
    /// `ipam` says otherwise.
    func config(version: String, ipam: [String: Any]? = nil, extra: [String: Any] = [:]) -> [String: Any] {
        var c: [String: Any] = [
            "cniVersion": version, "name": "\(tag)-net", "type": "calico", "mtu": 1410,
            "nodename": nodeName, "log_level": "info",
            "kubernetes": ["kubeconfig": server.tokenKubeconfig],
            "policy": ["type": "k8s"],
            "ipam": ipam ?? ["type": "host-local", "subnet": "usePodCidr", "dataDir": dataDir],
        ]
        for (k, v) in extra { c[k] = v }
        return c
    }

    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any] ?? [:] }
        var code: Int? { json["code"] as? Int }
    }

    /// Runs `calico` like a runtime: CNI_* from the pod, the config on stdin.
    func run(_ command: String, _ pod: PodRef?, config: [String: Any]?, rawStdin: String? = nil,
             netns: String?? = .none, ifName: String = "eth0", podArgs: Bool = true,
             extraEnv: [String: String] = [:]) throws -> Outcome {
        // The direct API unless a test names an agent socket (a calico-node run elsewhere on
        // this machine must not serve these plugins).
        var env = ["CNI_COMMAND": command, "CNI_PATH": binDir, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                   PodCIDRCache.environmentVariable: podCIDRCacheDir, AgentSocket.environmentVariable: "none"]
        if let pod {
            env["CNI_CONTAINERID"] = pod.containerID
            env["CNI_IFNAME"] = ifName
            if let n = netns ?? pod.netns { env["CNI_NETNS"] = n }
            if podArgs {
                env["CNI_ARGS"] = "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=\(pod.name);K8S_POD_INFRA_CONTAINER_ID=\(pod.containerID)"
            }
        }
        for (k, v) in extraEnv { env[k] = v }
        var stdin = rawStdin ?? ""
        if let config { stdin = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self) }
        let r = try DevServer.run(binDir + "/calico", [], environment: env, stdin: stdin)
        return Outcome(status: r.status, stdout: r.out, stderr: r.err)
    }

    /// ADD that must succeed; returns the result.
    func add(_ pod: PodRef, version: String = "1.0.0", config: [String: Any]? = nil, podArgs: Bool = true,
             file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let r = try run("ADD", pod, config: config ?? self.config(version: version), podArgs: podArgs)
        XCTAssertEqual(r.status, 0, "ADD \(pod.name): \(r.stdout) \(r.stderr)", file: file, line: line)
        return r.json
    }

    // MARK: what is held

    /// host-local's reservation files for this network (address -> container ID).
    func reservations() -> [String: String] {
        var out: [String: String] = [:]
        let net = dataDir + "/\(tag)-net"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: net)) ?? [] where name != "lock" && !name.hasPrefix("last_reserved") {
            out[name] = (try? String(contentsOfFile: net + "/" + name, encoding: .utf8))?.split(separator: "\r\n").first.map(String.init) ?? ""
        }
        return out
    }

    func hostLinkExists(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: "/sys/class/net/\(name)")
    }

    /// Host routes into the pod CIDR (ours are `<ip> dev caliX scope link`).
    func hostRoutesToPods() throws -> [String] {
        try KernelFixture.ip(nil, ["-4", "route", "show", "root", podCIDR]).split(separator: "\n").map(String.init)
    }

    /// `ip netns exec <pod> ping` / host ping; true when one echo came back.
    func ping(from pod: PodRef?, to address: String) -> Bool {
        let args = ["-c", "1", "-W", "2", address]
        if let pod { return (try? KernelFixture.run("/usr/sbin/ip", ["netns", "exec", pod.netnsName, "ping"] + args)) != nil }
        return (try? KernelFixture.run("/usr/bin/ping", args)) != nil
    }

    /// The pod's IPv4 address from an ADD result.
    static func address(_ result: [String: Any]) -> String? {
        guard let ips = result["ips"] as? [[String: Any]], let a = ips.first?["address"] as? String else { return nil }
        return String(a.split(separator: "/").first ?? "")
    }
}

/// A test case with a fresh CNIFixture per test, torn down whatever happened.
class CNIFixtureTestCase: XCTestCase {
    /// The fixture's name tag (prefix of its netns and link names); one per test class.
    class var fixtureTag: String { "cnx" }
    var fx: CNIFixture!

    override func setUpWithError() throws {
        fx = try CNIFixture(tag: Self.fixtureTag)
    }

    override func tearDown() {
        fx?.tearDown()
        fx = nil
    }

    /// Runs `body(i)` for every i on its own thread, all at once, and waits for all.
    func inParallel(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for i in 0..<count {
            group.enter()
            Thread.detachNewThread {
                body(i)
                group.leave()
            }
        }
        group.wait()
    }

    /// `command` for every pod at once, as the kubelet starts and stops pods concurrently;
    /// the outcomes in the pods' order (status -1 when the plugin could not be run).
    func runInParallel(_ command: String, _ pods: [CNIFixture.PodRef], config: [String: Any],
                       extraEnv: [String: String] = [:]) -> [CNIFixture.Outcome] {
        let fx = self.fx!
        let shared = LockedBox(config)
        let outcomes = LockedBox([Int: CNIFixture.Outcome]())
        inParallel(pods.count) { i in
            let r = (try? fx.run(command, pods[i], config: shared.value, extraEnv: extraEnv))
                ?? CNIFixture.Outcome(status: -1, stdout: "", stderr: "")
            outcomes.withLock { $0[i] = r }
        }
        let all = outcomes.value
        return pods.indices.map { all[$0] ?? CNIFixture.Outcome(status: -1, stdout: "", stderr: "") }
    }
}
