import Foundation

/// What `calico-node install-cni` installs and where, after Calico's install-cni: every value
/// comes from a flag, else from the environment variable Calico's DaemonSet sets, else a default.
public struct InstallSettings: Sendable, Equatable {
    public enum IPAMType: String, Sendable, CaseIterable {
        /// Debian's host-local plugin with `"subnet": "usePodCidr"` (the seed's default).
        case hostLocal = "host-local"
        /// Our Calico IPAM plugin (IPPool / IPAMBlock custom resources).
        case calico = "calico-ipam"

        /// Accepts `calico` as shorthand for `calico-ipam`.
        public init?(text: String) {
            if text == "calico" { self = .calico } else { self.init(rawValue: text) }
        }
    }

    public var binDir = "/opt/cni/bin"
    public var netDir = "/etc/cni/net.d"
    public var confName = "10-calico.conflist"
    public var kubeconfigName = "calico-kubeconfig"
    /// A full network config template (CNI_NETWORK_CONFIG); nil means the built-in one.
    public var networkConfigTemplate: String?
    public var mtu = 1500
    public var ipam: IPAMType = .hostLocal
    /// Pools for calico-ipam (`ipam.ipv4_pools`); empty means every enabled pool.
    public var ipv4Pools: [String] = []
    /// host-local's store directory (`ipam.dataDir`); nil keeps host-local's default.
    public var hostLocalDataDir: String?
    public var nodeName: String
    public var cniVersion = "1.0.0"
    public var logLevel = "info"
    public var datastoreType = "kubernetes"
    /// Copy the binary instead of symlinking it (for a host whose /opt/cni/bin cannot see ours).
    public var copyBinaries = false
    public var skipBinaries = false
    /// The plugin names that point at the calico-node binary.
    public static let binaryNames = ["calico", "calico-ipam"]

    public init(nodeName: String) { self.nodeName = nodeName }

    public var conflistPath: String { netDir + "/" + confName }
    public var kubeconfigPath: String { netDir + "/" + kubeconfigName }

    /// Pure: settings from environment variables (Calico's names where Calico has one).
    /// `readFile` reads CNI_NETWORK_CONFIG_FILE and the nodename file; `hostname` is the last resort.
    public static func fromEnvironment(_ env: [String: String], hostname: String,
                                       readFile: (String) -> String? = { try? String(contentsOfFile: $0, encoding: .utf8) })
        throws(InstallError) -> InstallSettings {
        func value(_ name: String) -> String? {
            guard let v = env[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !v.isEmpty else { return nil }
            return v
        }
        let nodeFile = readFile("/var/lib/calico/nodename")?.trimmingCharacters(in: .whitespacesAndNewlines)
        let node = value("KUBERNETES_NODE_NAME") ?? value("NODENAME") ?? (nodeFile?.isEmpty == false ? nodeFile : nil) ?? hostname
        var s = InstallSettings(nodeName: node)
        if let v = value("CNI_BIN_DIR") { s.binDir = v }
        if let v = value("CNI_NET_DIR") { s.netDir = v }
        if let v = value("CNI_CONF_NAME") { s.confName = v }
        if let v = value("CNI_MTU") { s.mtu = try parseMTU(v, source: "CNI_MTU") }
        if let v = value("CNI_IPAM_TYPE") { s.ipam = try parseIPAM(v, source: "CNI_IPAM_TYPE") }
        if let v = value("CALICO_IPV4POOL_CIDR") { s.ipv4Pools = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        if let v = value("CNI_SPEC_VERSION") { s.cniVersion = v }
        if let v = value("CNI_LOG_LEVEL") { s.logLevel = v }
        if let v = value("DATASTORE_TYPE") { s.datastoreType = v }
        if let v = value("CNI_IPAM_DATA_DIR") { s.hostLocalDataDir = v }
        s.copyBinaries = isTrue(value("CNI_COPY_BINARIES"))
        s.skipBinaries = isTrue(value("SKIP_CNI_BINARIES"))
        if let t = value("CNI_NETWORK_CONFIG") {
            s.networkConfigTemplate = t
        } else if let path = value("CNI_NETWORK_CONFIG_FILE") {
            guard let t = readFile(path) else { throw .unreadable(path, "CNI_NETWORK_CONFIG_FILE names a file that cannot be read") }
            s.networkConfigTemplate = t
        }
        return s
    }

    public static func parseMTU(_ text: String, source: String) throws(InstallError) -> Int {
        guard let mtu = Int(text), (68...65535).contains(mtu) else {
            throw .invalidSetting(source, "\"\(text)\" is not an MTU (a whole number from 68 to 65535)")
        }
        return mtu
    }

    public static func parseIPAM(_ text: String, source: String) throws(InstallError) -> IPAMType {
        guard let t = IPAMType(text: text) else {
            throw .invalidSetting(source, "\"\(text)\" is not an IPAM type; use host-local or calico-ipam")
        }
        return t
    }

    private static func isTrue(_ v: String?) -> Bool { ["true", "1", "yes"].contains(v?.lowercased() ?? "") }
}
