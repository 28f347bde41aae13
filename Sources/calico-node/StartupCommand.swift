import ArgumentParser

struct StartupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "startup",
        abstract: "Register this node: name, addresses, AS number, default IP pool."
    )

    func run() throws {
        try notImplemented("startup")
    }
}
