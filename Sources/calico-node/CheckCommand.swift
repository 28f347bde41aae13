import ArgumentParser

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Readiness and liveness probe."
    )

    func run() throws {
        try notImplemented("check")
    }
}
