#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Core
import Foundation

// A HarnessError is thrown as is: ArgumentParser prints it as "Error: ..." without usage text.

/// The data directory option every harness command shares.
struct HarnessDataDir: ParsableArguments {
    @Option(help: "The cluster's state directory.") var dataDir = "/tmp/calico-devcluster"
}

extension HarnessState.CNIMode: ExpressibleByArgument {}
extension HarnessState.IPAMMode: ExpressibleByArgument {}

struct UpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Make a cluster of network-namespace nodes with an API server, Nodes and CNI installed.",
        discussion: """
        Makes the underlay namespace NAME-underlay with bridge br0, puts this namespace on it \
        (NAME-ul, host .1 of --underlay-cidr; the API server listens there), one namespace \
        NAME-node-I per node (eth0 at host .(10+I), ip_forward on), registers Node node-I \
        (podCIDR the I-th /24 of --pod-cidr-base, projectcalico.org/IPv4Address), and runs \
        `calico-node install-cni` into DATA-DIR/nodes/node-I/{bin,net.d}.
        """
    )

    @OptionGroup var data: HarnessDataDir
    @Option(help: "Number of nodes.") var nodes = 2
    @Option(help: "Cluster name: prefixes namespaces and the root link (1-10 of a-z, 0-9, -).") var name = "dc"
    @Option(help: "The underlay network (IPv4, /8 to /24).") var underlayCIDR = "172.31.0.0/24"
    @Option(help: "Node I's podCIDR is the I-th /24 of this network.") var podCIDRBase = "10.244.0.0/16"
    @Option(help: "API server port (0 picks a free one).") var port = 0
    @Option(help: "CNI plugins: calico (ours, via install-cni) or reference (Debian's ptp + host-local).") var cni: HarnessState.CNIMode = .calico
    @Option(help: "IPAM for the calico plugin: host-local (usePodCidr) or calico (Calico IPAM).") var ipam: HarnessState.IPAMMode = .hostLocal
    @Option(help: "The IPPool created for --ipam calico.") var pool = "192.168.0.0/16"
    @Option(help: "Pod interface MTU.") var mtu = 1500
    @Option(help: "The calico-node binary (default: $CALICO_NODE_BIN, else next to this executable).") var calicoNode: String?
    @Option(help: "Directory of the reference CNI plugins.") var referencePluginDir = "/usr/lib/cni"
    @Flag(help: "Route each node's podCIDR (with --ipam calico: each pod's block) via that node on the others (pod-to-pod across nodes without BGP).") var staticRoutes = false

    func run() throws {
        let o = ClusterUp.Options(clusterName: name, nodes: nodes, dataDir: data.dataDir, underlayCIDR: underlayCIDR,
                                  podCIDRBase: podCIDRBase, port: port, cni: cni, ipam: ipam, pool: pool,
                                  staticRoutes: staticRoutes, mtu: mtu, calicoNode: calicoNode, referencePluginDir: referencePluginDir)
        let state = try ClusterUp(options: o).run()
        print("up: cluster \(state.clusterName) with \(state.nodes.count) node(s); export KUBECONFIG=\(state.apiServer?.kubeconfig ?? "")")
    }
}

struct PodCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pod",
        abstract: "Add or delete pods the way the kubelet does (Pod object, sandbox netns, CNI chain).",
        subcommands: [PodAddCommand.self, PodDelCommand.self]
    )
}

struct PodAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Create a pod on NODE and run CNI ADD for it.")

    @OptionGroup var data: HarnessDataDir
    @Argument(help: "The node, e.g. node-1.") var node: String
    @Argument(help: "The pod's namespace (created if missing).") var namespace: String
    @Argument(help: "The pod's name.") var name: String
    @Option(help: "Labels, k=v,k2=v2.") var labels: String?
    @Option(help: "A named container port NAME=PORT[/PROTOCOL][:HOSTPORT]; repeatable (a host port goes to portmap).") var port: [String] = []

    func run() throws {
        let added = try PodRuntime(dataDir: data.dataDir).add(node: node, namespace: namespace, name: name,
                                                              labels: try ClusterObjects.parseLabels(labels),
                                                              ports: try port.map(ClusterObjects.parsePort))
        print("pod \(added.record.key) on \(added.node.name): \(added.record.ips.joined(separator: ", ")) (netns \(added.record.netns))")
    }
}

struct PodDelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "del", abstract: "Run CNI DEL for a pod, remove its netns and delete it.")

    @OptionGroup var data: HarnessDataDir
    @Argument(help: "The pod's namespace.") var namespace: String
    @Argument(help: "The pod's name.") var name: String

    func run() throws {
        try PodRuntime(dataDir: data.dataDir).delete(namespace: namespace, name: name)
        print("pod \(namespace)/\(name) deleted")
    }
}

struct ExecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run a command inside a pod's (NAMESPACE/NAME) or a node's (node-I) network namespace.",
        discussion: """
        In a node, KUBECONFIG (the cluster's admin kubeconfig) and NODENAME are set, so a role runs         as that node's calico-node would: calico-devcluster exec node-1 -- calico-node bgp.         Example for a pod: calico-devcluster exec default/a -- ping -c1 10.244.2.2
        """
    )

    @OptionGroup var data: HarnessDataDir
    @Argument(help: "NAMESPACE/NAME of a pod (NAME alone: namespace default), or a node name.") var target: String
    @Argument(parsing: .postTerminator, help: "The command.") var command: [String] = []

    func run() throws {
        guard !command.isEmpty else { throw ValidationError("give the command after --") }
        let state = try HarnessState.load(data.dataDir)
        let netns: String
        var env = ProcessInfo.processInfo.environment
        // A bare name is a node, else a pod in the default namespace.
        if let pod = state.pods.first(where: { $0.key == target || (!target.contains("/") && $0.key == "default/" + target) }),
           !state.nodes.contains(where: { $0.name == target }) {
            netns = pod.netns
        } else if let node = state.nodes.first(where: { $0.name == target }) {
            netns = node.netns
            env["NODENAME"] = node.name
            if let kubeconfig = state.apiServer?.kubeconfig { env["KUBECONFIG"] = kubeconfig }
        } else {
            throw ValidationError("no pod or node \(target) in this cluster (pods: \(state.pods.map(\.key).joined(separator: ", ")))")
        }
        // Replaces this process, so the command's exit status and terminal are the caller's.
        let ip = HarnessShell.which("ip") ?? "/usr/sbin/ip"
        let argv = [ip, "netns", "exec", netns] + command
        let cargs = argv.map { strdup($0) } + [nil]
        let cenv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        execve(ip, cargs, cenv)
        throw ValidationError("cannot exec \(ip): \(String(cString: strerror(errno)))")
    }
}

struct DownCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "down", abstract: "Remove every namespace, link, process and file the cluster made.")

    @OptionGroup var data: HarnessDataDir

    func run() throws {
        ClusterDown(dataDir: data.dataDir).run()
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Print the cluster's API server, nodes and pods.")

    @OptionGroup var data: HarnessDataDir

    func run() throws {
        let s = try HarnessState.load(data.dataDir)
        print(StatusText.render(s, serverAlive: s.apiServer.map { HarnessShell.isOurProcess($0.pid, marker: APIServerDaemon.marker) } ?? false))
    }
}

/// `status` output (pure).
enum StatusText {
    static func render(_ s: HarnessState, serverAlive: Bool) -> String {
        var lines = ["cluster \(s.clusterName) in \(s.dataDir) (CNI \(s.cni.rawValue), IPAM \(s.ipam.rawValue)\(s.staticRoutes ? ", static routes" : ""))"]
        if let a = s.apiServer {
            lines.append("API server \(a.url) pid \(a.pid) \(serverAlive ? "running" : "NOT RUNNING"); KUBECONFIG=\(a.kubeconfig)")
        } else {
            lines.append("API server: none")
        }
        lines.append("NODE\tNETNS\tADDRESS\tPODCIDR")
        lines += s.nodes.map { "\($0.name)\t\($0.netns)\t\($0.address)\t\($0.podCIDR)" }
        lines.append("POD\tNODE\tIPS\tNETNS")
        lines += s.pods.map { "\($0.key)\t\($0.node)\t\($0.ips.joined(separator: ","))\t\($0.netns)" }
        return lines.joined(separator: "\n")
    }
}
