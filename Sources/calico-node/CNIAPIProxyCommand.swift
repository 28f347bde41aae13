import ArgumentParser
import CNI
import Core
import Foundation
import Logging

/// Where `run` and `cni-api-proxy` serve the CNI plugins' API socket.
struct CNIAPIOptions: ParsableArguments {
    @Option(name: .customLong("cni-api-socket"),
            help: "Unix socket for the CNI plugins' API requests (default: CALICO_CNI_API_SOCKET, else \(AgentSocket.defaultPath)).")
    var socket: String?

    @Option(name: .customLong("cni-api-node"),
            help: "This node's name: the agent keeps its Node from a watch and answers the plugins' reads of it (default: NODENAME; none: every read is forwarded).")
    var node: String?

    /// The Node the agent keeps for the plugins' usePodCidr reads, nil for none.
    func nodeName(environment: [String: String]) -> String? {
        let name = (node ?? environment["NODENAME"])?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return name.isEmpty ? nil : name
    }

    /// The path to serve, nil when turned off (`none` in the environment).
    func path(environment: [String: String]) -> String? {
        if let socket, !socket.isEmpty { return socket }
        return AgentSocket.path(environment: environment)
    }

    /// Serves `path` with requests forwarded through `api`; a failure is logged, not fatal:
    /// the plugins then use the API directly.
    /// The agent also runs calico-ipam's ADD and DEL itself (one request per plugin ADD/DEL)
    /// unless `agentIPAM` is false (then it answers 404 there, as an older agent would).
    /// `node`: this node's name, whose Node the agent keeps from a watch for the plugins' reads.
    static func serve(path: String, api: KubeClient, logger: Logger, agentIPAM: Bool = true, node: String? = nil) async -> AgentAPIProxy? {
        let local = agentIPAM ? AgentIPAMService(api: api, environment: ProcessInfo.processInfo.environment).local : nil
        let nodeCache = node.map(AgentNodeCache.init(node:))
        do {
            let proxy = try await AgentAPIProxy.start(path: path, local: local, cached: nodeCache?.answer, forwardNow: api.forward,
                                                      forward: { method, target, body, type in
                try await api.forward(method: method, target: target, body: body, contentType: type)
            }, onStop: { nodeCache?.stop() })
            nodeCache?.start(api: api, logger: logger)
            return proxy
        } catch {
            logger.error("\(error); the CNI plugins will use the API directly")
            return nil
        }
    }
}

/// Only the CNI plugins' API socket, without felix or BGP: for tests, the benchmark, and nodes
/// that run the roles elsewhere. Hidden: `run` serves the socket by default.
struct CNIAPIProxyCommand: AsyncRunnable {
    static let configuration = CommandConfiguration(
        commandName: "cni-api-proxy",
        abstract: "Serve only the CNI plugins' API socket (what `run` also does).",
        shouldDisplay: false
    )

    @OptionGroup var cniAPI: CNIAPIOptions

    @Flag(name: .customLong("no-agent-ipam"),
          help: "Do not run calico-ipam's ADD and DEL in the agent (404 on its endpoint, as an older agent): the plugins then send per-object requests.")
    var noAgentIPAM = false

    func runAsync() async throws {
        let env = ProcessInfo.processInfo.environment
        LogBootstrap.bootstrap(calicoLevel: FelixConfigLayering.resolve(environment: env).config.logSeverityScreen)
        let logger = Logger(label: "calico.cni-api")
        guard let path = cniAPI.path(environment: env) else {
            throw ValidationError("the CNI API socket is turned off (\(AgentSocket.environmentVariable)=none); pass --cni-api-socket PATH")
        }
        let api = try KubeClient(connection: DatastoreConfig.load(environment: env))
        guard let proxy = await CNIAPIOptions.serve(path: path, api: api, logger: logger, agentIPAM: !noAgentIPAM,
                                                    node: cniAPI.nodeName(environment: env)) else {
            throw ExitCode.failure
        }
        do {
            try await ProcessSignals.runUntilTerminated {
                while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            }
        } catch {}
        await proxy.stop()
        logger.info("CNI API socket \(path) closed")
    }
}
