import ArgumentParser
import CNI
import Core
import Foundation

/// `calico-node install-cni`: links (or copies) the plugin binaries and writes the conflist and
/// the plugin's kubeconfig. Each flag overrides the environment variable named in its help.
struct InstallCNICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install-cni",
        abstract: "Install the CNI binaries, network config and kubeconfig.",
        discussion: """
        The datastore for the plugin's kubeconfig comes from KUBECONFIG / K8S_* or the in-cluster \
        service account, as for every role. Template placeholders: __KUBECONFIG_FILEPATH__, \
        __KUBECONFIG_FILENAME__, __CNI_MTU__, __KUBERNETES_NODE_NAME__, __LOG_LEVEL__, \
        __DATASTORE_TYPE__, __CNI_VERSION__, __CNI_IPAM__, __CNI_NET_DIR__, \
        __KUBERNETES_SERVICE_HOST__, __KUBERNETES_SERVICE_PORT__.
        """
    )

    @Option(help: "CNI binary directory (CNI_BIN_DIR; default /opt/cni/bin).") var binDir: String?
    @Option(help: "CNI network config directory (CNI_NET_DIR; default /etc/cni/net.d).") var netDir: String?
    @Option(help: "Network config file name (CNI_CONF_NAME; default 10-calico.conflist).") var confName: String?
    @Option(help: "Network config template (CNI_NETWORK_CONFIG).") var networkConfig: String?
    @Option(help: "File holding the network config template (CNI_NETWORK_CONFIG_FILE).") var networkConfigFile: String?
    @Option(help: "Pod interface MTU (CNI_MTU; default 1500).") var mtu: String?
    @Option(help: "IPAM plugin: host-local (usePodCidr) or calico-ipam (CNI_IPAM_TYPE; default host-local).") var ipam: String?
    @Option(help: "An IPv4 pool CIDR for calico-ipam; repeatable (CALICO_IPV4POOL_CIDR, comma-separated).") var ipv4Pool: [String] = []
    @Option(help: "host-local's data directory (CNI_IPAM_DATA_DIR).") var ipamDataDir: String?
    @Option(help: "Node name (KUBERNETES_NODE_NAME, NODENAME, /var/lib/calico/nodename, then the hostname).") var nodeName: String?
    @Option(help: "cniVersion of the conflist (CNI_SPEC_VERSION; default 1.0.0).") var cniVersion: String?
    @Option(help: "The plugin's log_level (CNI_LOG_LEVEL; default info).") var logLevel: String?
    @Option(help: "The calico-node binary the plugin names point at (default: this executable).") var binary: String?
    @Flag(help: "Copy the binary instead of symlinking it (CNI_COPY_BINARIES=true).") var copy = false
    @Flag(help: "Do not install binaries, only the config files (SKIP_CNI_BINARIES=true).") var skipBinaries = false

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        var s = try InstallSettings.fromEnvironment(env, hostname: Self.hostname())
        if let binDir { s.binDir = binDir }
        if let netDir { s.netDir = netDir }
        if let confName { s.confName = confName }
        if let mtu { s.mtu = try InstallSettings.parseMTU(mtu, source: "--mtu") }
        if let ipam { s.ipam = try InstallSettings.parseIPAM(ipam, source: "--ipam") }
        if !ipv4Pool.isEmpty { s.ipv4Pools = ipv4Pool }
        if let ipamDataDir { s.hostLocalDataDir = ipamDataDir }
        if let nodeName { s.nodeName = nodeName }
        if let cniVersion { s.cniVersion = cniVersion }
        if let logLevel { s.logLevel = logLevel }
        if copy { s.copyBinaries = true }
        if skipBinaries { s.skipBinaries = true }
        if let networkConfig {
            s.networkConfigTemplate = networkConfig
        } else if let networkConfigFile {
            guard let t = try? String(contentsOfFile: networkConfigFile, encoding: .utf8) else {
                throw InstallError.unreadable(networkConfigFile, "--network-config-file names a file that cannot be read")
            }
            s.networkConfigTemplate = t
        }
        let connection = try DatastoreConfig.load()
        let exe = try binary ?? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let report = try CNIInstaller.install(s, binary: exe, connection: connection, environment: env)
        for b in report.binaries { print("installed \(b) -> \(exe)\(s.copyBinaries ? " (copy)" : "")") }
        print("wrote \(report.conflist)")
        print("wrote \(report.kubeconfig)")
    }

    /// The kernel's hostname, as Calico's os.Hostname() (Foundation's hostName may resolve it via DNS).
    static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(cString: buffer).lowercased()
    }
}
