import ArgumentParser

struct InstallCNICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install-cni",
        abstract: "Install the CNI binaries, network config and kubeconfig."
    )

    func run() throws {
        try notImplemented("install-cni")
    }
}
