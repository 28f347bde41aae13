import Foundation

/// The node's name: NODENAME, then the node name file (written by an earlier startup), then the
/// host name lower-cased, as Calico resolves it.
public enum NodeNameResolver {
    public static let defaultFile = "/var/lib/calico/nodename"

    public static func resolve(environment: String?, file: String, hostname: String) -> String {
        if let n = environment?.trimmingCharacters(in: .whitespacesAndNewlines), !n.isEmpty { return n }
        if let text = try? String(contentsOfFile: file, encoding: .utf8) {
            let n = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if !n.isEmpty { return n }
        }
        return hostname.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// Writes `name` to `file` (creating its directory) for the CNI plugin and later restarts.
    public static func write(_ name: String, to file: String) throws(StartupError) {
        do {
            let dir = (file as NSString).deletingLastPathComponent
            if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            try Data(name.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
        } catch {
            throw .nodenameFile(path: file, detail: "\(error.localizedDescription)")
        }
    }
}
