import ArgumentParser
import Core
import Foundation

/// `-f FILE` (or `-f -` for stdin) shared by apply, create and delete.
struct CtlFileOptions: ParsableArguments {
    @Option(name: [.short, .customLong("filename")], help: "YAML or JSON file of resources; - reads stdin.")
    var filename: String

    /// Reads, maps and validates every document before anything is written.
    func resources() throws -> [CtlResource] {
        let text: String
        if filename == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            do { text = try String(contentsOfFile: filename, encoding: .utf8) } catch {
                throw ValidationError("cannot read \(filename): \(error.localizedDescription)")
            }
        }
        let docs = try CtlDocuments.parse(text, source: filename == "-" ? "stdin" : filename)
        guard !docs.isEmpty else { throw ValidationError("\(filename) holds no resources") }
        return try docs.enumerated().map { (i, doc) throws -> CtlResource in try CtlResource.from(doc, index: i + 1) }
    }

    func run(_ verb: CtlOperations.Verb) async throws {
        let resources = try resources()
        let ops = CtlOperations(client: try KubeClient(connection: DatastoreConfig.load()))
        for line in try await ops.run(verb, resources) { print(line) }
    }
}

struct CtlApplyCommand: AsyncRunnable {
    static let configuration = CommandConfiguration(commandName: "apply", abstract: "Create or replace Calico resources from a file.")
    @OptionGroup var file: CtlFileOptions
    func runAsync() async throws { try await file.run(.apply) }
}

struct CtlCreateCommand: AsyncRunnable {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create Calico resources from a file; existing ones are an error.")
    @OptionGroup var file: CtlFileOptions
    func runAsync() async throws { try await file.run(.create) }
}

struct CtlDeleteCommand: AsyncRunnable {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete the Calico resources named in a file.")
    @OptionGroup var file: CtlFileOptions
    func runAsync() async throws { try await file.run(.delete) }
}
