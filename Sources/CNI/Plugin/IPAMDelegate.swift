import Core
import Foundation

/// Delegation to the IPAM plugin named by `ipam.type` (spec section 4): found on CNI_PATH, run
/// with the runtime's environment and CNI_COMMAND set, the network config on stdin (its `ipam`
/// section possibly rewritten, e.g. usePodCidr resolved), stderr passed through, its result or
/// error read back.
///
/// Version negotiation: a delegate older than the config (Debian 12's host-local speaks up to
/// 1.0.0) answers code 1; then its VERSION is asked and the call repeated once with the newest
/// version both sides speak, the config's prevResult re-encoded in that version. The result is
/// version-free, so the caller still answers in the runtime's version.
struct IPAMDelegate: Sendable {
    typealias Runner = @Sendable (_ path: String, _ environment: [String: String], _ stdin: Data) async throws(CNIError) -> PluginProcess.Outcome

    var type: String
    var paths: [String]
    var environment: [String: String]
    var runner: Runner

    init(type: String, paths: [String], environment: [String: String],
         runner: @escaping Runner = { (p, e, s) async throws(CNIError) in try PluginProcess.run(path: p, environment: e, stdin: s) }) {
        self.type = type
        self.paths = paths
        self.environment = environment
        self.runner = runner
    }

    /// The first executable `<dir>/<type>` on CNI_PATH.
    func locate() -> String? {
        guard !type.contains("/") else { return nil }
        for dir in paths where !dir.isEmpty {
            let p = (dir as NSString).appendingPathComponent(type)
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    func requirePath() throws(CNIError) -> String {
        guard let p = locate() else {
            throw CNIError(.invalidNetworkConfig,
                           "invalid network config: ipam.type \"\(type)\": no executable \(type) in CNI_PATH (\(paths.joined(separator: ":")))")
        }
        return p
    }

    func add(_ config: NetworkConfig, ipam: JSONValue) async throws(CNIError) -> CNIResult {
        let out: Data, version: SpecVersion
        do { (out, version) = try await invoke(.add, config, ipam: ipam) } catch { throw Self.exhaustion(error) }
        return try CNIResult.decode(out, defaultVersion: version, path: "IPAM plugin \(type) result").result
    }

    /// host-local reports a full range as its generic code 999; the runtime should see it as
    /// the spec's "try again later" (11), with host-local's own words kept.
    static func exhaustion(_ e: CNIError) -> CNIError {
        guard e.code == 999, e.msg.contains("no IP addresses available") else { return e }
        return CNIError(.tryAgainLater, e.msg, details: "the IPAM plugin's address range is exhausted (it reported code 999)")
    }

    func del(_ config: NetworkConfig, ipam: JSONValue, environment extra: [String: String] = [:]) async throws(CNIError) {
        _ = try await invoke(.del, config, ipam: ipam, extra: extra)
    }

    func check(_ config: NetworkConfig, ipam: JSONValue) async throws(CNIError) {
        _ = try await invoke(.check, config, ipam: ipam)
    }

    /// STATUS and GC exist only from 1.1.0; a delegate that does not speak it fails with code 1.
    /// Older delegates do not answer an unknown command with code 1 (host-local 1.1.1 says
    /// "missing containerID"), so their VERSION is asked first.
    func status(_ config: NetworkConfig, ipam: JSONValue) async throws(CNIError) {
        try await requireStatusAndGC("STATUS")
        _ = try await invoke(.status, config, ipam: ipam)
    }

    func gc(_ config: NetworkConfig, ipam: JSONValue) async throws(CNIError) {
        try await requireStatusAndGC("GC")
        _ = try await invoke(.gc, config, ipam: ipam)
    }

    private func requireStatusAndGC(_ command: String) async throws(CNIError) {
        let listed = try await supportedVersions(try requirePath())
        guard listed.contains(where: { SpecVersion(rawValue: $0)?.allowsStatusAndGC ?? false }) else {
            throw CNIError(.incompatibleVersion, "IPAM plugin \(type) supports \(listed.joined(separator: ", ")), not \(command) (1.1.0)")
        }
    }

    /// The delegate's VERSION answer.
    func supportedVersions(_ path: String) async throws(CNIError) -> [String] {
        let out = try await call(path, Delegation.environment(environment, command: .version), Data())
        return (try? JSONValue(data: out))?["supportedVersions"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    /// One call, negotiated down once on code 1. Returns stdout and the version it was made in.
    func invoke(_ command: CNICommandKind, _ config: NetworkConfig, ipam: JSONValue,
                extra: [String: String] = [:]) async throws(CNIError) -> (Data, SpecVersion) {
        let path = try requirePath()
        var env = Delegation.environment(environment, command: command)
        for (k, v) in extra { env[k] = v }
        let version = config.cniVersion
        do {
            return (try await call(path, env, Self.stdin(config, ipam: ipam, version: version)), version)
        } catch let e where e.code == ErrorCode.incompatibleVersion.rawValue {
            guard let lower = try await negotiate(path, below: version, command: command) else { throw e }
            return (try await call(path, env, Self.stdin(config, ipam: ipam, version: lower)), lower)
        }
    }

    private func call(_ path: String, _ env: [String: String], _ stdin: Data) async throws(CNIError) -> Data {
        let outcome = try await runner(path, env, stdin)
        guard outcome.status == 0 else {
            if var e = CNIError.decode(outcome.stdout) {
                if e.msg.isEmpty { e.msg = "IPAM plugin \(type) failed" }
                throw e
            }
            let text = String(decoding: outcome.stdout.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw CNIError(.ipamFailure, "IPAM plugin \(type) (\(path)) exited with status \(outcome.status)"
                           + (text.isEmpty ? " and no output" : ": \(text)"))
        }
        return outcome.stdout
    }

    /// The newest version below `version` that the delegate lists and that allows `command`.
    private func negotiate(_ path: String, below version: SpecVersion, command: CNICommandKind) async throws(CNIError) -> SpecVersion? {
        Self.bestCommon(try await supportedVersions(path), below: version, command: command)
    }

    static func bestCommon(_ listed: [String], below version: SpecVersion, command: CNICommandKind) -> SpecVersion? {
        listed.compactMap(SpecVersion.init(rawValue:)).filter { v in
            v < version && (command != .check || v.allowsCheck)
                && ((command != .status && command != .gc) || v.allowsStatusAndGC)
        }.max()
    }

    /// The delegate's stdin: the config with `ipam` replaced and, when negotiated down, the
    /// version (and prevResult in that version's shape) changed.
    static func stdin(_ config: NetworkConfig, ipam: JSONValue, version: SpecVersion) -> Data {
        var raw = config.raw
        raw["ipam"] = ipam
        if version != config.cniVersion {
            raw["cniVersion"] = .string(version.rawValue)
            if let prev = config.prevResult { raw["prevResult"] = prev.json(for: version) }
        }
        return Data(JSONWire.encodeSorted(raw))
    }
}
