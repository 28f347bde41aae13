import Core
import Foundation

/// The Node's pod CIDRs as last read, one small file per (cluster, node), so that an ADD
/// with `usePodCidr` can start host-local without waiting for a Node read (a Node's podCIDR
/// never changes once set; a Node deleted and registered again may get another one, which is
/// why the plugin still reads the Node in parallel and refreshes the entry on a mismatch).
/// Kept under /run by default: cleared on reboot, never stale across cluster rebuilds.
public struct PodCIDRCache: Sendable {
    public static let defaultDirectory = "/run/calico/cni-podcidrs"
    /// Overrides the directory (tests, unprivileged runs).
    public static let environmentVariable = "CALICO_CNI_PODCIDR_CACHE_DIR"

    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public init(environment: [String: String]) {
        let d = environment[Self.environmentVariable] ?? ""
        directory = d.isEmpty ? Self.defaultDirectory : d
    }

    /// `<node>.<first 12 hex digits of SHA-1(server)>`: readable, and distinct per cluster
    /// (`server` is whatever names it: the API server's URL or the kubeconfig's path).
    public func path(server: String, node: String) -> String {
        let safeNode = String(node.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" })
        return (directory as NSString).appendingPathComponent("\(safeNode).\(SHA1.hexDigest(server).prefix(12))")
    }

    /// The cached CIDRs; nil when there is no usable entry.
    public func read(server: String, node: String) -> [String]? {
        guard let text = try? String(contentsOfFile: path(server: server, node: node), encoding: .utf8) else { return nil }
        let cidrs = text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
        guard !cidrs.isEmpty, cidrs.allSatisfy({ IPNet(parsing: $0) != nil }) else { return nil }
        return cidrs
    }

    /// Writes atomically (a temporary file renamed over the entry), so that a concurrent
    /// reader sees the old or the new list, never half of one; no CIDRs removes the entry.
    /// Best effort: the cache only saves time, so failing to write it is not an error.
    public func write(_ cidrs: [String], server: String, node: String) {
        let target = path(server: server, node: node)
        guard !cidrs.isEmpty else {
            unlink(target)
            return
        }
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = target + ".tmp\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: Data((cidrs.joined(separator: "\n") + "\n").utf8)) else { return }
        if rename(temporary, target) != 0 { unlink(temporary) }
    }
}
