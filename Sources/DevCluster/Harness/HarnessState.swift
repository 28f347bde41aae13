#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// What `up` made and `pod add` added, in DATA-DIR/state.json, so later commands (other
/// processes) find the cluster and `down` removes exactly what was made. Every change is a
/// locked read-modify-write (flock on DATA-DIR/state.lock), so parallel `pod add`s are safe.
struct HarnessState: Codable, Sendable, Equatable {
    struct APIServerProcess: Codable, Sendable, Equatable {
        var pid: Int32
        var url: String
        var kubeconfig: String
        var log: String
    }

    struct PodRecord: Codable, Sendable, Equatable {
        var namespace: String
        var name: String
        var node: String
        var netns: String
        var containerID: String
        var uid: String
        var ips: [String] = []
        /// The chain's final ADD result (prevResult for DEL), as JSON text.
        var result: String?
        /// The runtimeConfig `portMappings` (JSON text) given on ADD, given again on DEL.
        var portMappings: String?
        var key: String { "\(namespace)/\(name)" }
    }

    enum CNIMode: String, Codable, Sendable, CaseIterable { case calico, reference }
    enum IPAMMode: String, Codable, Sendable, CaseIterable { case hostLocal = "host-local", calico }

    var clusterName: String
    var dataDir: String
    /// Whether `up` created the data directory (then `down` removes it whole).
    var createdDataDir: Bool
    var underlayNetns: String
    var rootLink: String
    var rootAddress: String
    var cni: CNIMode
    var ipam: IPAMMode
    var staticRoutes: Bool
    /// Where Debian's reference plugins (host-local, portmap, ptp) are.
    var referencePluginDir: String
    var apiServer: APIServerProcess?
    var nodes: [ClusterPlan.Node]
    var pods: [PodRecord] = []

    static func path(_ dir: String) -> String { dir + "/state.json" }

    func nodeDir(_ node: String) -> String { dataDir + "/nodes/" + node }

    /// CNI_PATH for a node: its own bin dir (calico, calico-ipam), then the reference plugins.
    /// The CNI API socket of the node's `calico-node run` (each node an agent of its own, as on
    /// separate machines, rather than all sharing the host's default path).
    func cniAPISocket(_ node: String) -> String { nodeDir(node) + "/cni-api.sock" }

    func cniPath(_ node: String) -> [String] {
        cni == .calico ? [nodeDir(node) + "/bin", referencePluginDir] : [referencePluginDir]
    }

    static func load(_ dir: String) throws -> HarnessState {
        let path = path(dir)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw HarnessError("no dev cluster in \(dir) (\(path) is missing); run `calico-devcluster up` first or pass --data-dir")
        }
        do { return try JSONDecoder().decode(HarnessState.self, from: data) } catch {
            throw HarnessError("\(path) is not a dev-cluster state file: \(error)")
        }
    }

    func save() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let path = Self.path(dataDir)
        let tmp = path + ".tmp-\(getpid())"
        try encoder.encode(self).write(to: URL(fileURLWithPath: tmp))
        guard rename(tmp, path) == 0 else { throw HarnessError("cannot write \(path): \(String(cString: strerror(errno)))") }
    }

    /// Loads, lets `body` change the state, saves; all under the directory's lock.
    @discardableResult
    static func update<T>(_ dir: String, _ body: (inout HarnessState) throws -> T) throws -> T {
        try withLock(dir) {
            var s = try load(dir)
            let value = try body(&s)
            try s.save()
            return value
        }
    }

    static func withLock<T>(_ dir: String, _ body: () throws -> T) throws -> T {
        let fd = open(dir + "/state.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw HarnessError("cannot open \(dir)/state.lock: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw HarnessError("cannot lock \(dir)/state.lock") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }
}

/// A harness failure, with what to do about it.
struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
