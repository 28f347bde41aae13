import ArgumentParser
import CNI
import Core
import Foundation

/// The CNI plugin: environment and stdin in, the result or the spec's error on stdout, exit
/// status 0 or 1. Kubelet and containerd exec it from the CNI bin dir as `calico`.
struct CNICommand: AsyncRunnable {
    static let configuration = CommandConfiguration(
        commandName: "cni",
        abstract: "The CNI plugin (also when invoked as 'calico')."
    )

    func runAsync() async throws {
        await Self.runPlugin()
    }

    /// Also main's direct path, before any argument parsing.
    static func runPlugin() async -> Never {
        // A delegated IPAM plugin that exits before reading stdin must not kill us.
        signal(SIGPIPE, SIG_IGN)
        let environment = PluginIO.processEnvironment()
        // The API's fixed cost (loading libcurl) overlaps reading the config and the kernel work.
        if TransportPreload.cniInvocationNeedsAPI(environment) { TransportPreload.start() }
        let plugin = CalicoCNIPlugin(environment: environment)
        let status = await CNIPluginRunner.run(io: .process) { try await plugin.handle($0) }
        PluginExit.now(status)
    }
}
