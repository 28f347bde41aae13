import ArgumentParser

struct DevClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calico-devcluster",
        abstract: "A development Kubernetes API server and a cluster of network-namespace nodes.",
        subcommands: [APIServerCommand.self, UpCommand.self, PodCommand.self, ExecCommand.self, StatusCommand.self, DownCommand.self]
    )
}
