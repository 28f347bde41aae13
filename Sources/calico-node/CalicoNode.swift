import ArgumentParser
import Core

struct CalicoNode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calico-node",
        abstract: "Calico's node agent for Kubernetes, with the Kubernetes API as its datastore.",
        subcommands: [
            RunCommand.self, FelixCommand.self, BGPCommand.self, CNICommand.self, IPAMCommand.self,
            CheckCommand.self, StartupCommand.self, InstallCNICommand.self, CtlCommand.self,
            VersionCommand.self, CNIAPIProxyCommand.self,
        ]
    )
}

/// A subcommand whose work is async; main.swift awaits `runAsync()`.
protocol AsyncRunnable: ParsableCommand {
    func runAsync() async throws
}
