import ArgumentParser

struct BGPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bgp",
        abstract: "BGP speaker: node mesh, route reflectors and explicit peers."
    )

    func run() throws {
        try notImplemented("bgp")
    }
}
