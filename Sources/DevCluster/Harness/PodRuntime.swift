import Core
import Foundation

/// `pod add` / `pod del`: the kubelet's and container runtime's part for one pod. The sandbox is
/// a network namespace; the CNI chain from the node's net.d runs from inside the node's
/// namespace (where a kubelet on that node would run it).
struct PodRuntime {
    var dataDir: String

    struct Added: Sendable {
        var record: HarnessState.PodRecord
        var node: ClusterPlan.Node
    }

    func add(node nodeName: String, namespace: String, name: String, labels: [String: String], ports: [ContainerPort]) throws -> Added {
        let state = try HarnessState.load(dataDir)
        guard let node = state.nodes.first(where: { $0.name == nodeName }) else {
            throw HarnessError("no node \(nodeName) in this cluster (nodes: \(state.nodes.map(\.name).joined(separator: ", ")))")
        }
        let api = try client(state)
        let podObject = ClusterObjects.pod(namespace: namespace, name: name, node: nodeName, labels: labels, ports: ports)
        let uid = try blocking {
            try await ClusterObjects.ensureNamespace(namespace, api: api)
            return try await api.create(podObject).metadata.uid ?? UUID().uuidString.lowercased()
        }
        var record = HarnessState.PodRecord(namespace: namespace, name: name, node: nodeName,
                                            netns: ClusterPlan.podNetns(cluster: state.clusterName, namespace: namespace, name: name),
                                            containerID: Self.containerID(), uid: uid)
        record.portMappings = ClusterObjects.portMappings(ports).map { String(decoding: JSONWire.encode($0), as: UTF8.self) }
        // Recorded before the namespace exists, so `down` removes it whatever happens next.
        try HarnessState.update(dataDir) { s in
            if s.pods.contains(where: { $0.key == record.key }) { throw HarnessError("pod \(record.key) is already in this cluster") }
            s.pods.append(record)
        }
        do {
            try HarnessShell.check(["ip", "netns", "add", record.netns])
            try HarnessShell.check(["ip", "-n", record.netns, "link", "set", "lo", "up"])
            let chain = try chain(for: node, state)
            let result = try runAdd(chain, record, node: node, state: state)
            record.ips = CNIChain.addresses(in: result)
            record.result = String(decoding: JSONWire.encode(result), as: UTF8.self)
            if state.staticRoutes, state.ipam == .calico {
                for ip in record.ips {
                    guard let block = NetworkCommands.block(of: ip, blockSize: ClusterObjects.poolBlockSize) else { continue }
                    for c in NetworkCommands.blockRoutes(block: block, via: node, nodes: state.nodes) { try HarnessShell.check(c) }
                }
            }
            let patch = ClusterObjects.runningStatus(ips: record.ips, hostIP: node.addressOnly)
            _ = try blocking { try await api.patch(Pod.self, name: name, namespace: namespace, mergePatch: patch) }
            let done = record
            try HarnessState.update(dataDir) { s in
                if let i = s.pods.firstIndex(where: { $0.key == done.key }) { s.pods[i] = done }
            }
            return Added(record: record, node: node)
        } catch {
            _ = try? HarnessShell.run(["ip", "netns", "del", record.netns])
            try? blocking { try await api.delete(Pod.self, name: name, namespace: namespace) }
            try? HarnessState.update(dataDir) { s in s.pods.removeAll { $0.key == record.key } }
            throw error
        }
    }

    /// CNI DEL (reverse order), the sandbox namespace, then the Pod object and the record.
    /// With `bestEffort` (for `down`) failures are reported to `say` instead of stopping.
    func delete(namespace: String, name: String, bestEffort: Bool = false, say: (String) -> Void = { _ in }) throws {
        let state = try HarnessState.load(dataDir)
        guard let record = state.pods.first(where: { $0.namespace == namespace && $0.name == name }) else {
            throw HarnessError("no pod \(namespace)/\(name) in this cluster")
        }
        do {
            if let node = state.nodes.first(where: { $0.name == record.node }) {
                try runDel(try chain(for: node, state), record, node: node, state: state)
            }
        } catch {
            if !bestEffort { throw error }
            say("CNI DEL of \(record.key) failed: \(error)")
        }
        if FileManager.default.fileExists(atPath: NetNamespace.named(record.netns).path) {
            try HarnessShell.check(["ip", "netns", "del", record.netns])
        }
        if !bestEffort || state.apiServer.map({ HarnessShell.isOurProcess($0.pid, marker: APIServerDaemon.marker) }) == true {
            do {
                let api = try client(state)
                try blocking { try await api.delete(Pod.self, name: name, namespace: namespace) }
            } catch KubeError.notFound {
            } catch {
                if !bestEffort { throw error }
                say("deleting Pod \(record.key) failed: \(error)")
            }
        }
        try HarnessState.update(dataDir) { s in s.pods.removeAll { $0.key == record.key } }
    }

    private func client(_ state: HarnessState) throws -> KubeClient {
        guard let server = state.apiServer else { throw HarnessError("the cluster in \(dataDir) has no API server (a failed up?); run down and up again") }
        return try KubeClient(connection: DatastoreConfig.load(environment: ["KUBECONFIG": server.kubeconfig]))
    }

    private func chain(for node: ClusterPlan.Node, _ state: HarnessState) throws -> CNIChain {
        let dir = state.nodeDir(node.name) + "/net.d"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        guard let file = CNIChain.pickConfigFile(names) else { throw HarnessError("no CNI network config in \(dir)") }
        guard let data = FileManager.default.contents(atPath: dir + "/" + file) else { throw HarnessError("cannot read \(dir)/\(file)") }
        do { return try CNIChain(conflist: data) } catch { throw HarnessError("\(dir)/\(file): \(error)") }
    }

    private func sandbox(_ r: HarnessState.PodRecord) -> CNIChain.Sandbox {
        .init(containerID: r.containerID, netnsPath: NetNamespace.named(r.netns).path, podNamespace: r.namespace, podName: r.name, podUID: r.uid)
    }

    private func runtimeConfig(_ r: HarnessState.PodRecord) -> [String: JSONValue] {
        guard let text = r.portMappings, let mappings = try? JSONWire.parse(Array(text.utf8)) else { return [:] }
        return ["portMappings": mappings]
    }

    /// Every plugin in order, each result the next one's prevResult; a failure runs DEL for
    /// the whole list (as the runtime does when sandbox setup fails) and reports the plugin's error.
    private func runAdd(_ chain: CNIChain, _ r: HarnessState.PodRecord, node: ClusterPlan.Node, state: HarnessState) throws -> JSONValue {
        let path = state.cniPath(node.name)
        var prev: JSONValue?
        for i in chain.plugins.indices {
            do {
                prev = try invoke(chain.add(i, sandbox(r), cniPath: path, prevResult: prev, runtimeConfig: runtimeConfig(r)),
                                  path: path, node: node, apiSocket: state.cniAPISocket(node.name))
            } catch {
                try? runDel(chain, r, node: node, state: state, cached: prev)
                throw error
            }
        }
        guard let prev else { throw HarnessError("the CNI chain returned no result") }
        return prev
    }

    private func runDel(_ chain: CNIChain, _ r: HarnessState.PodRecord, node: ClusterPlan.Node, state: HarnessState, cached: JSONValue? = nil) throws {
        let path = state.cniPath(node.name)
        let result = cached ?? r.result.flatMap { try? JSONWire.parse(Array($0.utf8)) }
        var firstError: Error?
        for inv in chain.del(sandbox(r), cniPath: path, cachedResult: result, runtimeConfig: runtimeConfig(r)) {
            do { _ = try invoke(inv, path: path, node: node, apiSocket: state.cniAPISocket(node.name)) } catch { firstError = firstError ?? error }
        }
        if let firstError { throw firstError }
    }

    private func invoke(_ inv: CNIChain.Invocation, path: [String], node: ClusterPlan.Node, apiSocket: String) throws -> JSONValue? {
        guard let exe = CNIChain.findPlugin(inv.pluginType, in: path, isExecutable: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw HarnessError("CNI plugin \(inv.pluginType) not found in CNI_PATH \(path.joined(separator: ":"))")
        }
        var env = inv.environment
        env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        env["CALICO_CNI_API_SOCKET"] = apiSocket
        let r = try HarnessShell.run([exe], environment: env, stdin: Data(JSONWire.encode(inv.stdin)), netns: node.netns)
        let command = inv.environment["CNI_COMMAND"] ?? "?"
        guard r.status == 0 else {
            let json = try? JSONWire.parse(Array(r.out))
            let code = json?["code"]?.intValue.map { " code \($0)" } ?? ""
            let msg = json?["msg"]?.stringValue ?? r.outText
            let details = json?["details"]?.stringValue.map { " (\($0))" } ?? ""
            throw HarnessError("CNI \(command) \(inv.pluginType) failed (exit \(r.status)\(code)): \(msg)\(details)\(r.err.isEmpty ? "" : "; stderr: \(r.err.trimmingCharacters(in: .whitespacesAndNewlines))")")
        }
        guard command == "ADD" else { return nil }
        do { return try JSONWire.parse(Array(r.out)) } catch {
            throw HarnessError("CNI ADD \(inv.pluginType) printed no JSON result: \(r.outText.prefix(300))")
        }
    }

    /// 64 hex digits, like a container runtime's sandbox id.
    static func containerID() -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
    }
}
