import ArgumentParser
import Core
import Foundation

struct CtlCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl",
        abstract: "calicoctl-style access to Calico resources in the Kubernetes datastore.",
        subcommands: [CtlGetCommand.self, CtlApplyCommand.self, CtlCreateCommand.self, CtlDeleteCommand.self, CtlExplainCommand.self,
                      CtlEndpointCommand.self, CtlNodeCommand.self]
    )
}

struct CtlGetCommand: AsyncRunnable {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Print resources of one kind (e.g. nodes, ippools, bgppeers, networkpolicies, workloadendpoints)."
    )

    @Argument(help: "The kind: plural, singular or short name, optionally GROUP-qualified.")
    var kind: String

    @Argument(help: "One resource's name; all when omitted.")
    var name: String?

    @Option(name: [.short, .long], help: "Namespace of namespaced kinds (default: all namespaces).")
    var namespace: String?

    @Option(name: [.short, .customLong("output")], help: "Output format: table, wide, yaml or json.")
    var output: CtlOutputFormat = .table

    func runAsync() async throws {
        let client = try KubeClient(connection: DatastoreConfig.load())
        if ["workloadendpoints", "workloadendpoint", "wep", "weps"].contains(kind.lowercased()) {
            print(try await CtlPrinter.workloadEndpoints(client: client, name: name, namespace: namespace, format: output), terminator: "")
            return
        }
        let resource = try ResourceLookup.kind(named: kind)
        let path = resource.path(namespace: namespace, name: name)
        let (status, body) = try await client.raw(method: "GET", path: path)
        guard (200..<300).contains(status) else {
            let detail = (try? JSONDecoder().decode(APIStatus.self, from: body))?.message ?? "HTTP \(status)"
            throw ValidationError("cannot get \(resource.plural): \(detail)")
        }
        let json = try JSONValue(data: body)
        let items = name == nil ? (json["items"]?.arrayValue ?? []) : [json]
        print(try CtlPrinter.render(items: items, kind: resource, format: output, single: name != nil), terminator: "")
    }
}
