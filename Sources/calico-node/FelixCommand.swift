import ArgumentParser

struct FelixCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "felix",
        abstract: "Policy engine: NetworkPolicy and Calico policy into nftables."
    )

    func run() throws {
        try notImplemented("felix")
    }
}
