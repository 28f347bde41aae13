import ArgumentParser

struct CtlCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl",
        abstract: "calicoctl-style access to Calico resources."
    )

    func run() throws {
        try notImplemented("ctl")
    }
}
