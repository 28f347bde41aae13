import Core
import Foundation
import Logging
import Policy
import Prometheus
import XCTest

/// A one-node cluster in network namespaces for felix's root tests: a "node" namespace that felix
/// programs, one namespace per pod wired to it by a `cali*` veth exactly as the CNI plugin wires
/// it (pod side /32 with 169.254.1.1 as gateway), servers in every pod answering TCP and UDP on
/// ports 80 and 81, a development API server holding the Namespaces and Pods, and felix itself
/// running in-process against that node namespace.
final class FelixTestCluster: @unchecked Sendable {
    struct PodRef: Hashable, CustomStringConvertible {
        var namespace: String
        var name: String
        var description: String { "\(namespace)/\(name)" }
    }

    let tag: String
    let server: DevServer
    let api: KubeClient
    let node: NetNamespace
    let nodeName: String
    private(set) var pods: [PodRef: (netns: NetNamespace, ip: String)] = [:]
    private var madeNamespaces: [String] = []
    private var serverProcesses: [Process] = []
    private var felixTask: Task<Void, Error>?
    private(set) var health = HealthRegistry()
    private(set) var metrics = PrometheusCollectorRegistry()
    let scriptDir: String

    init(tag: String) throws {
        self.tag = "\(tag)\(getpid() % 100_000)"
        server = try DevServer.start()
        api = try KubeClient(connection: DatastoreConfig.load(environment: ["KUBECONFIG": server.tokenKubeconfig]))
        nodeName = "node-\(self.tag)"
        scriptDir = NSTemporaryDirectory() + "felix-\(self.tag)-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: scriptDir, withIntermediateDirectories: true)
        try Self.serverScript.write(toFile: scriptDir + "/serve.py", atomically: true, encoding: .utf8)
        try Self.probeScript.write(toFile: scriptDir + "/probe.py", atomically: true, encoding: .utf8)
        let nodeNS = "\(self.tag)n"
        try? NetNamespace.delete(name: nodeNS)
        node = try NetNamespace.create(name: nodeNS)
        madeNamespaces.append(nodeNS)
        try KernelFixture.ip(node, ["link", "set", "lo", "up"])
        try sh(node, ["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        // An uplink with the default route, as every real node has: proxy ARP answers for the
        // pods' 169.254.1.1 gateway only when the node has a route to it.
        try KernelFixture.ip(node, ["link", "add", "\(self.tag)u0", "type", "veth", "peer", "name", "\(self.tag)u1"])
        try KernelFixture.ip(node, ["link", "set", "\(self.tag)u0", "up"])
        try KernelFixture.ip(node, ["link", "set", "\(self.tag)u1", "up"])
        try KernelFixture.ip(node, ["route", "add", "default", "dev", "\(self.tag)u0"])
    }

    /// Stops felix, the servers and the API server; deletes every namespace made.
    func tearDown() async {
        await stopFelix()
        for p in serverProcesses where p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        for name in madeNamespaces { try? NetNamespace.delete(name: name) }
        server.stop()
        try? FileManager.default.removeItem(atPath: scriptDir)
    }

    // MARK: pods

    /// Makes the pod: its namespace, the veth into the node, addresses, the API object, servers.
    /// A pod's netns, veth and servers; with `register` false no Pod object is made, so felix
    /// does not know its interface (as when the CNI plugin has made it and felix not yet).
    func addPod(namespace: String, name: String, ip: String, labels: [String: String], register: Bool = true) async throws {
        let ref = PodRef(namespace: namespace, name: name)
        let netnsName = "\(tag)\(namespace)\(name)"
        try? NetNamespace.delete(name: netnsName)
        let netns = try NetNamespace.create(name: netnsName)
        madeNamespaces.append(netnsName)
        let hostIface = WorkloadEndpoint.hostInterfaceName(namespace: namespace, pod: name)
        try KernelFixture.ip(node, ["link", "add", hostIface, "type", "veth", "peer", "name", "eth0", "netns", netnsName])
        try KernelFixture.ip(node, ["link", "set", hostIface, "address", "ee:ee:ee:ee:ee:ee", "up"])
        try KernelFixture.ip(netns, ["link", "set", "lo", "up"])
        try KernelFixture.ip(netns, ["addr", "add", "\(ip)/32", "dev", "eth0"])
        try KernelFixture.ip(netns, ["link", "set", "eth0", "up"])
        try KernelFixture.ip(netns, ["route", "add", "169.254.1.1", "dev", "eth0", "scope", "link"])
        try KernelFixture.ip(netns, ["route", "add", "default", "via", "169.254.1.1", "dev", "eth0"])
        pods[ref] = (netns, ip)
        if register { try await registerPod(namespace: namespace, name: name, ip: ip, labels: labels) }

        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        p.arguments = ["netns", "exec", netnsName, "python3", scriptDir + "/serve.py", "80", "81"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        serverProcesses.append(p)
    }

    /// The Pod object of a pod whose network `addPod` made.
    func registerPod(namespace: String, name: String, ip: String, labels: [String: String]) async throws {
        let ports = [80, 81].flatMap { port in ["TCP", "UDP"].map { ContainerPort(name: "serve-\(port)-\($0.lowercased())", containerPort: port, protocol: $0) } }
        let pod = Pod(metadata: ObjectMeta(name: name, namespace: namespace, labels: labels),
                      spec: PodSpec(nodeName: nodeName, containers: [Container(name: "c", ports: ports)]),
                      status: PodStatus(phase: "Running", podIP: ip))
        _ = try await api.create(pod)
    }

    func ensureNamespace(_ name: String, labels: [String: String] = [:]) async throws {
        var all = labels
        all["kubernetes.io/metadata.name"] = name
        _ = try await api.create(Namespace(metadata: ObjectMeta(name: name, labels: all)))
    }

    func removeKubeAPIPod(_ ref: PodRef) async throws {
        try await api.delete(Pod.self, name: ref.name, namespace: ref.namespace)
    }

    // MARK: felix

    func startFelix(environment: [String: String] = [:]) {
        let api = self.api, nodeName = self.nodeName, node = self.node, health = self.health, metrics = self.metrics
        var logger = Logger(label: "felix-test")
        logger.logLevel = .warning
        let log = logger
        felixTask = Task {
            try await FelixRole.run(api: api, nodeName: nodeName, environment: environment, health: health, metrics: metrics,
                                    namespace: node, logger: log)
        }
    }

    /// A fresh health registry and metrics for a restarted felix.
    func stopFelix() async {
        felixTask?.cancel()
        _ = try? await felixTask?.value
        felixTask = nil
        health = HealthRegistry()
        metrics = PrometheusCollectorRegistry()
    }

    func waitFelixReady(timeout: Double = 20) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if health.health(of: "felix")?.ready == true { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw FelixTestError("felix not ready after \(timeout)s: \(String(describing: health.health(of: "felix")))")
    }

    /// Programming passes felix has made (from its metrics).
    func applies() -> Int {
        let text = String(decoding: metrics.emitToBuffer(), as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix("felix_int_dataplane_applies_total ") {
            return Int(Double(line.split(separator: " ").last ?? "") ?? 0)
        }
        return 0
    }

    /// Makes API changes, then waits until felix has programmed after them (and a little more,
    /// so that every event of the change has arrived).
    func change(_ body: () async throws -> Void) async throws {
        let before = applies()
        try await body()
        let deadline = Date().addingTimeInterval(15)
        while applies() <= before {
            guard Date() < deadline else { throw FelixTestError("felix did not program within 15s of a change") }
            try await Task.sleep(for: .milliseconds(10))
        }
        try await Task.sleep(for: .milliseconds(150))
        try await waitFelixReady()
    }

    // MARK: probes

    enum Proto: String, CaseIterable { case tcp, udp }

    /// From each source pod to each target, in parallel; true where the connection (TCP) or
    /// echo (UDP) succeeded.
    func reachability(from sources: [PodRef], to targets: [PodRef], port: Int, proto: Proto) throws -> [PodRef: [PodRef: Bool]] {
        let out = LockedBox<[PodRef: [PodRef: Bool]]>([:])
        let failures = LockedBox<[Error]>([])
        let pods = self.pods, scriptDir = self.scriptDir
        DispatchQueue.concurrentPerform(iterations: sources.count) { i in
            let src = sources[i]
            do {
                let ips = targets.map { pods[$0]!.ip }
                let text = try KernelFixture.run("/usr/sbin/ip", ["netns", "exec", KernelFixture.name(pods[src]!.netns), "python3",
                                                                  scriptDir + "/probe.py", proto.rawValue, String(port)] + ips)
                let bits = text.split(separator: "\n").map { $0 == "1" }
                var row: [PodRef: Bool] = [:]
                for (t, ok) in zip(targets, bits) { row[t] = ok }
                out.withLock { $0[src] = row }
            } catch {
                failures.withLock { $0.append(error) }
            }
        }
        if let f = failures.value.first { throw f }
        return out.value
    }

    func canReach(_ src: PodRef, _ dst: PodRef, port: Int = 80, proto: Proto = .tcp) throws -> Bool {
        try reachability(from: [src], to: [dst], port: port, proto: proto)[src]?[dst] ?? false
    }

    private func sh(_ ns: NetNamespace, _ args: [String]) throws {
        try KernelFixture.run("/usr/sbin/ip", ["netns", "exec", KernelFixture.name(ns)] + args)
    }

    /// Echo servers on TCP and UDP for each port given.
    static let serverScript = """
    import socket, sys, threading
    def tcp(port):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port)); s.listen(128)
        while True:
            c, _ = s.accept()
            def serve(c):
                try:
                    while True:
                        d = c.recv(4096)
                        if not d: break
                        c.sendall(d)
                except Exception: pass
                c.close()
            threading.Thread(target=serve, args=(c,), daemon=True).start()
    def udp(port):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", port))
        while True:
            d, a = s.recvfrom(4096)
            s.sendto(d, a)
    ts = []
    for p in sys.argv[1:]:
        for f in (tcp, udp):
            t = threading.Thread(target=f, args=(int(p),), daemon=True); t.start(); ts.append(t)
    for t in ts: t.join()
    """

    /// probe.py tcp|udp PORT IP...: prints 1 or 0 per IP, probed in parallel.
    static let probeScript = """
    import socket, sys, threading
    proto, port, ips = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    res = [0] * len(ips)
    def probe(i, ip):
        try:
            if proto == "tcp":
                s = socket.create_connection((ip, port), timeout=1.0)
                s.sendall(b"x"); ok = s.recv(1) == b"x"; s.close()
            else:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.4)
                ok = False
                for _ in range(2):
                    try:
                        s.sendto(b"x", (ip, port))
                        if s.recvfrom(16)[0] == b"x": ok = True; break
                    except socket.timeout: pass
                s.close()
            res[i] = 1 if ok else 0
        except Exception:
            res[i] = 0
    ts = [threading.Thread(target=probe, args=(i, ip)) for i, ip in enumerate(ips)]
    for t in ts: t.start()
    for t in ts: t.join()
    print("\\n".join(str(r) for r in res))
    """
}

struct FelixTestError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

extension FelixTestCluster {
    /// Starts a Python script in a pod; collect its output with `wait`.
    func runInPod(_ pod: PodRef, script: String, args: [String]) throws -> (Process, Pipe) {
        let path = scriptDir + "/s\(UUID().uuidString.prefix(8)).py"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        p.arguments = ["netns", "exec", KernelFixture.name(pods[pod]!.netns), "python3", path] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        return (p, out)
    }

    func wait(_ running: (Process, Pipe)) async throws -> String {
        let (p, out) = running
        return try await Task.detached {
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }.value
    }
}
