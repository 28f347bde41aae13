import ArgumentParser

struct CNICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cni",
        abstract: "The CNI plugin (also when invoked as 'calico')."
    )

    func run() throws {
        try notImplemented("cni")
    }
}
