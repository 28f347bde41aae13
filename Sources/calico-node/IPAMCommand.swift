import ArgumentParser
import CNI
import Foundation

/// The Calico IPAM plugin. Like every CNI plugin it takes no arguments: the command comes in
/// CNI_COMMAND, the network config on stdin, and the answer goes to stdout.
struct IPAMCommand: AsyncRunnable {
    static let configuration = CommandConfiguration(
        commandName: "ipam",
        abstract: "The Calico IPAM plugin (also when invoked as 'calico-ipam')."
    )

    func run() throws {}

    func runAsync() async throws {
        await Self.runPlugin()
    }

    /// Also main's direct path, before any argument parsing.
    static func runPlugin() async -> Never {
        let status = await CalicoIPAMPlugin.run()
        PluginExit.now(status)
    }
}
