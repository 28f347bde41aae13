import Core
import Foundation
import IPAM
#if canImport(Glibc)
import Glibc
#endif

/// `calico-ipam`: the CNI edge of Calico IPAM. The calico plugin execs it with the same
/// network config; it answers ADD with one address per IP version (/32, /128), releases by
/// handle on DEL, checks the reservation on CHECK and releases stale handles on GC. ADD, DEL
/// and GC hold the host-wide lock file so that one node allocates one request at a time.
public enum CalicoIPAMPlugin {
    /// The prefix of Calico's Kubernetes handles: `k8s-pod-network.<containerID>`.
    public static let handlePrefix = "k8s-pod-network."

    public static func run(io: PluginIO = .process) async -> Int32 {
        let environment = io.environment()
        return await CNIPluginRunner.run(io: io) { request in
            let datastore = PluginDatastore(config: request.config, environment: environment)
            return try await handle(request, environment: environment, api: { try datastore.api() })
        }
    }

    /// calico-ipam inside the calico plugin's process, as if exec'd: the same environment and
    /// stdin in, the same stdout and exit status out, but sharing the plugin's API client (and
    /// its connection). The calico plugin uses this when calico-ipam on CNI_PATH is itself.
    static func runInProcess(environment: [String: String], stdin: Data,
                             api: @escaping @Sendable () throws -> any KubeAPI) async -> PluginProcess.Outcome {
        let stdout = CapturedOutput()
        let io = PluginIO(environment: { environment }, readStdin: { stdin }, writeStdout: { stdout.append($0) })
        let status = await CNIPluginRunner.run(io: io) { request in
            try await handle(request, environment: environment, api: api)
        }
        return PluginProcess.Outcome(status: status, stdout: stdout.data)
    }

    /// One request against the API `api` makes (made lazily: VERSION never connects).
    public static func handle(_ request: CNIRequest, environment: [String: String],
                              api: () throws -> any KubeAPI) async throws -> CNIResult? {
        do {
            return try await perform(request, environment: environment, api: api)
        } catch {
            throw cniError(error, command: request.command)
        }
    }

    private static func perform(_ request: CNIRequest, environment: [String: String],
                                api: () throws -> any KubeAPI) async throws -> CNIResult? {
        switch request {
        case .add(let r):
            // A malformed ipam section fails before any connection, whichever way IPAM runs.
            _ = try CalicoIPAMSettings.parse(r.config.ipam.raw)
            let request = AgentIPAMWire.Request(containerID: r.containerID, node: nodeName(r.config, environment),
                                                namespace: r.podNamespace, pod: r.podName, ipam: r.config.ipam.raw,
                                                requestedIPs: try requestedIPs(r.args), lockFile: HostLock.path(environment: environment))
            let client = try api()
            let ips: [IPNet]
            if case .assigned(let assigned)? = try await AgentIPAMClient.send(request, assign: true, via: client) {
                ips = assigned
                noteWay(.add, inAgent: true, environment)
            } else {
                ips = try await assign(request, api: client, lock: { try HostLock(path: HostLock.path(environment: environment)) })
                noteWay(.add, inAgent: false, environment)
            }
            return CNIResult(ips: ips.map { CNIResult.IPConfig(address: .host(CNIIPAddress(bytes: $0.bytes)!)) })

        case .del(let r):
            let request = AgentIPAMWire.Request(containerID: r.containerID, node: nodeName(r.config, environment),
                                                namespace: r.podNamespace, pod: r.podName, ipam: r.config.ipam.raw,
                                                requestedIPs: [], lockFile: HostLock.path(environment: environment))
            let client = try api()
            if try await AgentIPAMClient.send(request, assign: false, via: client) == nil {
                try await release(request, api: client, lock: { try HostLock(path: HostLock.path(environment: environment)) })
                noteWay(.del, inAgent: false, environment)
            } else {
                noteWay(.del, inAgent: true, environment)
            }
            return nil

        case .check(let r):
            let held = try await CalicoIPAM(api: try api()).addresses(handle: handlePrefix + r.containerID)
            guard !held.isEmpty else {
                throw CNIError(.containerUnknown, "calico-ipam CHECK: no addresses are reserved for handle \(handlePrefix + r.containerID)")
            }
            let heldText = Set(held.map(\.addressText))
            let expected = (r.config.prevResult?.ips ?? []).map { $0.address.address.description }
            let missing = expected.filter { !heldText.contains(IPNet(parsing: $0)?.addressText ?? $0) }
            guard missing.isEmpty else {
                throw CNIError(.internalFailure, "calico-ipam CHECK: prevResult address \(missing.joined(separator: ", ")) is not reserved for handle \(handlePrefix + r.containerID) (it holds \(heldText.sorted().joined(separator: ", ")))")
            }
            return nil

        case .status:
            do {
                let client = try api()
                _ = try await client.listPage(IPPool.self, options: ListOptions(limit: 1))
            } catch {
                throw CNIError(.pluginNotAvailable, "calico-ipam STATUS: cannot read IPPools: \(error)")
            }
            return nil

        case .gc(let g):
            let node = nodeName(g.config, environment)
            let ipam = CalicoIPAM(api: try api())
            let lock = try HostLock(path: HostLock.path(environment: environment))
            defer { lock.unlock() }
            _ = try await ipam.garbageCollect(node: node, prefix: handlePrefix,
                                              keepContainerIDs: Set(g.validAttachments.map(\.containerID)))
            return nil
        }
    }

    /// With CALICO_CNI_TIMING=1: where the IPAM work ran (`calico cni ipam ADD: in the agent`).
    private static func noteWay(_ command: CNICommandKind, inAgent: Bool, _ environment: [String: String]) {
        PhaseTimer("ipam \(command.rawValue)", environment: environment)
            .note(inAgent ? "in the agent (one request)" : "in the plugin (per-object requests)")
    }

    /// ADD's IPAM work, the same in the plugin (direct path) and in the calico-node agent
    /// (`AgentIPAMService`): the settings parsed, the host lock held, the addresses assigned.
    static func assign(_ r: AgentIPAMWire.Request, api: any KubeAPI,
                       lock: () async throws -> HostLock) async throws -> [IPNet] {
        let settings = try CalicoIPAMSettings.parse(r.ipam)
        let ipam = CalicoIPAM(api: api)
        let held = try await lock()
        defer { held.unlock() }
        var attributes: [String: String] = [:]
        if let ns = r.namespace { attributes["namespace"] = ns }
        if let pod = r.pod { attributes["pod"] = pod }
        return try await ipam.assign(AssignRequest(handleID: handlePrefix + r.containerID, node: r.node, attributes: attributes,
                                                   settings: settings, requestedIPs: r.requestedIPs))
    }

    /// DEL's IPAM work, shared like `assign`: the handle's addresses freed under the host lock.
    static func release(_ r: AgentIPAMWire.Request, api: any KubeAPI, lock: () async throws -> HostLock) async throws {
        let ipam = CalicoIPAM(api: api)
        let held = try await lock()
        defer { held.unlock() }
        try await ipam.release(handle: handlePrefix + r.containerID)
    }

    /// The CNI error the plugin answers for a failure of `assign` or `release`.
    static func cniError(_ error: Error, command: CNICommandKind) -> CNIError {
        if let e = error as? IPAMError { return CNIError(code: e.cniCode, msg: e.description) }
        return CNIError.wrapping(error, "calico-ipam \(command.rawValue)")
    }

    /// CNI_ARGS `IP=10.0.0.5` (or a comma-separated list, one per IP version).
    static func requestedIPs(_ args: CNIArgs) throws(CNIError) -> [IPNet] {
        guard let text = args.requestedIP else { return [] }
        return try text.split(separator: ",").map { (part: Substring) throws(CNIError) -> IPNet in
            let s = part.trimmingCharacters(in: .whitespaces)
            guard !s.contains("/"), let ip = IPNet(parsing: s) else {
                throw CNIError(.invalidEnvironment, "CNI_ARGS: IP=\(text) is not an IP address (or a comma-separated list of them)")
            }
            return ip
        }
    }

    static func nodeName(_ config: NetworkConfig, _ environment: [String: String]) -> String {
        PluginNodeName.resolve(config: config, environment: environment,
                               readFile: { try? String(contentsOfFile: $0, encoding: .utf8) },
                               hostname: {
                                   var buf = [CChar](repeating: 0, count: 256)
                                   guard gethostname(&buf, buf.count) == 0 else { return "localhost" }
                                   return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                               })
    }
}

/// What an in-process plugin run wrote to its stdout.
private final class CapturedOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes = Data()

    func append(_ chunk: Data) { lock.withLock { bytes.append(chunk) } }
    var data: Data { lock.withLock { bytes } }
}
