import ArgumentParser

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Container entrypoint: startup, then the roles chosen by flags."
    )

    func run() throws {
        try notImplemented("run")
    }
}
