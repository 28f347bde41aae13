import ArgumentParser

struct IPAMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ipam",
        abstract: "The Calico IPAM plugin (also when invoked as 'calico-ipam')."
    )

    func run() throws {
        try notImplemented("ipam")
    }
}
