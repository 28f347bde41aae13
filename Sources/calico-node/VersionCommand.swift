import ArgumentParser
import Core

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the version and the versions of the C libraries linked."
    )

    func run() throws {
        print("calico-node \(CalicoVersion.version)")
        for lib in LinkedLibraries.versions() {
            print("  \(lib.name) \(lib.version)")
        }
    }
}
