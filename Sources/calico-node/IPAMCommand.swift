import ArgumentParser
import CNI
import Core
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
        // ADD and DEL read and write IPAM resources: libcurl loads while the config is read.
        if let command = getenv("CNI_COMMAND").map({ String(cString: $0) }), command == "ADD" || command == "DEL" {
            TransportPreload.start()
        }
        let status = await CalicoIPAMPlugin.run()
        PluginExit.now(status)
    }
}
