#if canImport(Glibc)
import Glibc
#endif
import Core
import Foundation

/// `up`: network, API server, Nodes, then install-cni for each node. A failure part-way tears
/// down whatever was made, so `up` leaves a full cluster or nothing.
struct ClusterUp {
    struct Options: Sendable {
        var clusterName = "dc"
        var nodes = 2
        var dataDir = "/tmp/calico-devcluster"
        var underlayCIDR = "172.31.0.0/24"
        var podCIDRBase = "10.244.0.0/16"
        var port = 0
        var cni: HarnessState.CNIMode = .calico
        var ipam: HarnessState.IPAMMode = .hostLocal
        var pool = "192.168.0.0/16"
        var staticRoutes = false
        var mtu = 1500
        var calicoNode: String?
        var referencePluginDir = "/usr/lib/cni"
    }

    var options: Options
    var say: (String) -> Void = { print($0) }

    func run() throws -> HarnessState {
        let o = options
        let plan: ClusterPlan
        do { plan = try ClusterPlan(clusterName: o.clusterName, nodeCount: o.nodes, underlay: o.underlayCIDR, podCIDRBase: o.podCIDRBase) } catch {
            throw HarnessError(error.description)
        }
        try preflight(plan)
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let calicoNode = try o.calicoNode ?? Self.findCalicoNode(besides: exe)
        guard FileManager.default.isExecutableFile(atPath: calicoNode) else { throw HarnessError("--calico-node \(calicoNode) is not an executable") }
        let created = !FileManager.default.fileExists(atPath: o.dataDir)
        try FileManager.default.createDirectory(atPath: o.dataDir, withIntermediateDirectories: true)
        let state = HarnessState(clusterName: plan.clusterName, dataDir: o.dataDir, createdDataDir: created,
                                 underlayNetns: plan.underlayNetns, rootLink: plan.rootLink, rootAddress: plan.rootAddress,
                                 cni: o.cni, ipam: o.ipam, staticRoutes: o.staticRoutes, referencePluginDir: o.referencePluginDir, apiServer: nil, nodes: plan.nodes)
        // Saved before anything is made, so `down` can undo a partial `up`.
        try state.save()
        do {
            return try build(plan, state, executable: exe, calicoNode: calicoNode)
        } catch {
            say("up failed: \(error); removing what was made")
            ClusterDown(dataDir: o.dataDir, say: { _ in }).run()
            throw error
        }
    }

    private func preflight(_ plan: ClusterPlan) throws {
        if FileManager.default.fileExists(atPath: HarnessState.path(options.dataDir)) {
            throw HarnessError("a dev cluster is already up in \(options.dataDir); run `calico-devcluster down --data-dir \(options.dataDir)` first")
        }
        for ns in [plan.underlayNetns] + plan.nodes.map(\.netns) where FileManager.default.fileExists(atPath: NetNamespace.named(ns).path) {
            throw HarnessError("network namespace \(ns) exists already; another cluster named \(plan.clusterName) is up (use --name)")
        }
        let addrs = try HarnessShell.check(["ip", "-o", "-4", "addr", "show"]).outText
        if addrs.contains(" \(plan.rootAddressOnly)/") {
            throw HarnessError("\(plan.rootAddressOnly) is already assigned in this namespace (another cluster?); choose another --underlay-cidr")
        }
        if options.cni == .reference, !FileManager.default.isExecutableFile(atPath: options.referencePluginDir + "/ptp") {
            throw HarnessError("--cni reference needs the reference plugins in \(options.referencePluginDir) (Debian: containernetworking-plugins)")
        }
    }

    private func build(_ plan: ClusterPlan, _ initial: HarnessState, executable: String, calicoNode: String) throws -> HarnessState {
        var state = initial
        let o = options
        for c in NetworkCommands.underlay(plan) { try HarnessShell.check(c) }
        for n in plan.nodes {
            for c in NetworkCommands.node(n, plan) { try HarnessShell.check(c) }
            try NetNamespace.named(n.netns).run {
                try Sysctl.write(SysctlKey(dotted: "net.ipv4.ip_forward")!, "1")
            }
        }
        say("network: \(plan.underlayNetns) (bridge \(ClusterPlan.bridge)), root \(plan.rootLink) \(plan.rootAddress), \(plan.nodes.count) node namespace(s)")

        let server = try APIServerDaemon.start(executable: executable, bind: plan.rootAddressOnly, port: o.port, dataDir: o.dataDir + "/apiserver")
        state.apiServer = server
        try state.save()
        say("API server: \(server.url) (pid \(server.pid)); kubeconfig \(server.kubeconfig)")

        let api = try KubeClient(connection: DatastoreConfig.load(environment: ["KUBECONFIG": server.kubeconfig]))
        try blocking { try await ClusterObjects.register(plan, pool: o.ipam == .calico ? o.pool : nil, api: api) }
        say("registered nodes: \(plan.nodes.map { "\($0.name) \($0.addressOnly) podCIDR \($0.podCIDR)" }.joined(separator: ", "))")

        // One install-cni per node, side by side (each is a short-lived process).
        let failures = LockedErrors()
        let saved = state
        DispatchQueue.concurrentPerform(iterations: plan.nodes.count) { i in
            do { try Self.installCNI(node: plan.nodes[i], options: o, state: saved, calicoNode: calicoNode, kubeconfig: server.kubeconfig) } catch {
                failures.append(error)
            }
        }
        if let first = failures.first { throw first }
        say("CNI (\(o.cni.rawValue), IPAM \(o.ipam.rawValue)) installed in \(o.dataDir)/nodes/<node>/{bin,net.d}")
        if o.staticRoutes, o.ipam == .hostLocal {
            for c in NetworkCommands.staticRoutes(plan) { try HarnessShell.check(c) }
            say("static routes between the nodes' pod CIDRs installed")
        }
        return state
    }

    private static func installCNI(node n: ClusterPlan.Node, options: Options, state: HarnessState, calicoNode: String, kubeconfig: String) throws {
        let dir = state.nodeDir(n.name)
        var args = [calicoNode, "install-cni", "--bin-dir", dir + "/bin", "--net-dir", dir + "/net.d", "--node-name", n.name,
                    "--mtu", String(options.mtu), "--ipam-data-dir", dir + "/ipam"]
        switch options.cni {
        case .calico:
            args += ["--ipam", options.ipam == .calico ? "calico-ipam" : "host-local"]
            if options.ipam == .calico { args += ["--ipv4-pool", options.pool] }
        case .reference:
            args += ["--skip-binaries", "--conf-name", "10-reference.conflist",
                     "--network-config", referenceTemplate(podCIDR: n.podCIDR, dataDir: dir + "/ipam")]
        }
        var env = ProcessInfo.processInfo.environment
        for k in env.keys where k.hasPrefix("K8S_") || k.hasPrefix("CNI_") || k == "KUBERNETES_NODE_NAME" || k == "NODENAME" { env[k] = nil }
        env["KUBECONFIG"] = kubeconfig
        let r = try HarnessShell.run(args, environment: env)
        guard r.status == 0 else {
            throw HarnessError("install-cni for \(n.name) failed (exit \(r.status)): \(r.err.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }

    /// Debian's ptp + host-local (the node's pod CIDR, a per-node store) + portmap.
    static func referenceTemplate(podCIDR: String, dataDir: String) -> String {
        """
        {
          "name": "k8s-pod-network",
          "cniVersion": "__CNI_VERSION__",
          "plugins": [
            {
              "type": "ptp",
              "mtu": __CNI_MTU__,
              "ipam": {"type": "host-local", "subnet": "\(podCIDR)", "dataDir": "\(dataDir)", "routes": [{"dst": "0.0.0.0/0"}]}
            },
            {"type": "portmap", "snat": true, "capabilities": {"portMappings": true}}
          ]
        }
        """
    }

    /// calico-node: $CALICO_NODE_BIN, else next to this executable (both are products of one build).
    static func findCalicoNode(besides exe: String) throws -> String {
        if let env = ProcessInfo.processInfo.environment["CALICO_NODE_BIN"], !env.isEmpty { return env }
        let candidate = URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("calico-node").path
        guard FileManager.default.isExecutableFile(atPath: candidate) else {
            throw HarnessError("calico-node not found at \(candidate); build it (swift build --product calico-node) or pass --calico-node / CALICO_NODE_BIN")
        }
        return candidate
    }
}
