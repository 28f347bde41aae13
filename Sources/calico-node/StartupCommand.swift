import ArgumentParser
import Core
import Foundation

struct StartupCommand: AsyncRunnable {
    static let configuration = CommandConfiguration(
        commandName: "startup",
        abstract: "Register this node: name, addresses, AS number, default IP pool.",
        discussion: """
        Reads NODENAME, IP, IP6, IP_AUTODETECTION_METHOD, IP6_AUTODETECTION_METHOD, AS,
        CALICO_ROUTE_REFLECTOR_CLUSTER_ID, CALICO_IPV4POOL_CIDR, CALICO_IPV4POOL_BLOCK_SIZE,
        CALICO_IPV4POOL_NODE_SELECTOR, CALICO_IPV4POOL_NAT_OUTGOING, CALICO_IPV4POOL_IPIP,
        CALICO_IPV4POOL_VXLAN, CALICO_IPV6POOL_* (same names), NO_DEFAULT_POOLS,
        CALICO_NETWORKING_BACKEND, USE_POD_CIDR, CLUSTER_TYPE and the datastore variables.
        """
    )

    @OptionGroup var options: StartupOptions

    func runAsync() async throws {
        _ = try await options.runStartup()
    }
}

/// Options shared by `startup` and `run`.
struct StartupOptions: ParsableArguments {
    @Option(help: "Where the node name is kept for the CNI plugin and restarts.")
    var nodenameFile: String = NodeNameResolver.defaultFile

    @Option(help: "Seconds to wait for the Kubernetes API before giving up (0: wait forever).")
    var apiTimeout: Int = 0

    /// Startup against the API named by the environment; prints progress on stderr.
    func runStartup(api: KubeAPI? = nil) async throws -> StartupReport {
        let env = ProcessInfo.processInfo.environment
        let settings = try StartupSettings.parse(env)
        let name = NodeNameResolver.resolve(environment: settings.nodeName, file: nodenameFile,
                                            hostname: ProcessInfo.processInfo.hostName)
        let client = try api ?? KubeClient(connection: DatastoreConfig.load())
        let startup = NodeStartup(api: client, settings: settings, nodeName: name, nodenameFile: nodenameFile,
                                  wait: APIWait(timeout: apiTimeout > 0 ? .seconds(apiTimeout) : nil),
                                  log: { FileHandle.standardError.write(Data("startup: \($0)\n".utf8)) })
        return try await startup.run()
    }
}
