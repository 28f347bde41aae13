import Core
import Foundation
import XCTest

/// Drives `calico-devcluster up / pod add / pod del / exec / down` from a test: a cluster of
/// network-namespace nodes with its own API server. Each driver gets a unique cluster name,
/// data directory and underlay subnet (172.31.X.0/24), so tests run side by side; `down()` (also
/// on deinit) removes everything. Needs root, and the products built (`swift build --build-tests`).
final class DevClusterDriver: @unchecked Sendable {
    let name: String
    let dataDir: String
    private(set) var underlay = ""
    private let lock = NSLock()
    private var isUp = false

    /// The admin kubeconfig (also good for `calico-node` roles run in the root namespace).
    var kubeconfig: String { dataDir + "/apiserver/admin.kubeconfig" }

    private init() {
        name = "t" + String(UUID().uuidString.lowercased().filter(\.isHexDigit).prefix(6))
        dataDir = NSTemporaryDirectory() + "devcluster-\(name)"
    }

    deinit { down() }

    /// `cni`: calico or reference; `ipam`: host-local or calico.
    static func up(nodes: Int = 2, cni: String = "calico", ipam: String = "host-local", staticRoutes: Bool = false,
                   extraArgs: [String] = []) throws -> DevClusterDriver {
        let d = DevClusterDriver()
        var lastError = ""
        // A random underlay; another cluster may hold the same one, then `up` says so and we retry.
        for _ in 0..<6 {
            d.underlay = "172.31.\(Int.random(in: 100...250)).0/24"
            var args = ["up", "--nodes", String(nodes), "--name", d.name, "--underlay-cidr", d.underlay, "--cni", cni, "--ipam", ipam]
            if staticRoutes { args.append("--static-routes") }
            let r = try d.run(args + extraArgs)
            if r.status == 0 {
                d.lock.withLock { d.isUp = true }
                return d
            }
            lastError = r.err + r.out
            guard lastError.contains("already assigned") else { break }
        }
        throw DevServerError("calico-devcluster up failed: \(lastError)")
    }

    /// Runs calico-devcluster with this cluster's --data-dir (for `exec`, before the `--`).
    func run(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        var full = args
        let insertAt = full.firstIndex(of: "--") ?? full.count
        full.insert(contentsOf: ["--data-dir", dataDir], at: insertAt)
        return try DevServer.run(try DevServer.binaryPath(), full)
    }

    /// Adds a pod and returns its IPs.
    @discardableResult
    func podAdd(node: String, namespace: String = "default", name: String, labels: [String: String] = [:], ports: [String] = []) throws -> [String] {
        var args = ["pod", "add", node, namespace, name]
        if !labels.isEmpty { args += ["--labels", labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")] }
        for p in ports { args += ["--port", p] }
        let r = try run(args)
        guard r.status == 0 else { throw DevServerError("pod add \(namespace)/\(name) failed: \(r.err)\(r.out)") }
        return try pod(namespace: namespace, name: name)?["ips"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    func podDel(namespace: String = "default", name: String) throws {
        let r = try run(["pod", "del", namespace, name])
        guard r.status == 0 else { throw DevServerError("pod del \(namespace)/\(name) failed: \(r.err)\(r.out)") }
    }

    /// Runs a command in a pod's (`ns/name`) or node's (`node-1`) network namespace.
    func exec(_ target: String, _ command: [String]) throws -> (status: Int32, out: String, err: String) {
        try run(["exec", target, "--"] + command)
    }

    /// The state file (`state.json`) as JSON.
    func state() throws -> JSONValue {
        try JSONValue(data: Data(contentsOf: URL(fileURLWithPath: dataDir + "/state.json")))
    }

    func pod(namespace: String, name: String) throws -> JSONValue? {
        try state()["pods"]?.arrayValue?.first { $0["namespace"]?.stringValue == namespace && $0["name"]?.stringValue == name }
    }

    /// A node's network namespace name.
    func nodeNetns(_ node: String) -> String { "\(name)-\(node)" }

    /// The calico-node binary of this build.
    static func calicoNodePath() throws -> String {
        URL(fileURLWithPath: try DevServer.binaryPath()).deletingLastPathComponent().appendingPathComponent("calico-node").path
    }

    /// Starts `command` in the background inside a node's namespace, with KUBECONFIG (the admin
    /// kubeconfig, whose server is the underlay address) and NODENAME set, as calico-node runs on
    /// that node: `try cluster.background(node: "node-1", [DevClusterDriver.calicoNodePath(), "bgp"])`.
    func background(node: String, _ command: [String], environment: [String: String] = [:]) throws -> BackgroundProcess {
        var env = ProcessInfo.processInfo.environment
        env["KUBECONFIG"] = kubeconfig
        env["NODENAME"] = node
        env.merge(environment) { $1 }
        // `ip netns exec` execs the command, so stopping the process stops the command itself.
        return try BackgroundProcess(executable: "/usr/sbin/ip", arguments: ["netns", "exec", nodeNetns(node)] + command, environment: env)
    }

    func down() {
        let wasUp = lock.withLock { () -> Bool in let u = isUp; isUp = false; return u }
        guard wasUp || FileManager.default.fileExists(atPath: dataDir + "/state.json") else { return }
        _ = try? run(["down"])
    }
}
