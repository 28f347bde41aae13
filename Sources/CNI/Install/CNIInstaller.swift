import Core
import Foundation

/// Installs the plugin binaries, the network config list and the plugin's kubeconfig.
public enum CNIInstaller {
    public struct Report: Sendable, Equatable {
        /// Installed plugin paths (empty when binaries are skipped).
        public var binaries: [String]
        public var conflist: String
        public var kubeconfig: String
    }

    /// `binary` is the calico-node executable the plugin names should run; `connection` the
    /// datastore the plugin is to use. Everything is rendered before the first write, so a bad
    /// template or unreadable token changes nothing on disk.
    public static func install(_ s: InstallSettings, binary: String, connection: ClusterConnection,
                               environment: [String: String] = [:]) throws(InstallError) -> Report {
        let conflist = try ConflistRenderer.render(s, environment: environment)
        let token = try PluginKubeconfig.token(of: connection) { try? String(contentsOfFile: $0, encoding: .utf8) }
        let kubeconfig = PluginKubeconfig.render(connection, token: token)

        var installed: [String] = []
        if !s.skipBinaries {
            guard FileManager.default.isExecutableFile(atPath: binary) else {
                throw .invalidSetting("--binary", "\(binary) is not an executable file")
            }
            try InstallFiles.makeDirectory(s.binDir)
            for name in InstallSettings.binaryNames {
                let path = s.binDir + "/" + name
                if s.copyBinaries {
                    try InstallFiles.copyExecutable(binary, to: path)
                } else {
                    try InstallFiles.symlink(binary, at: path)
                }
                installed.append(path)
            }
        }
        try InstallFiles.makeDirectory(s.netDir)
        try InstallFiles.write(kubeconfig, to: s.kubeconfigPath, mode: 0o600)
        try InstallFiles.write(conflist, to: s.conflistPath, mode: 0o644)
        return Report(binaries: installed, conflist: s.conflistPath, kubeconfig: s.kubeconfigPath)
    }
}
