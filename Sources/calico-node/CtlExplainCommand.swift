import ArgumentParser
import Core
import Foundation

/// `ctl explain`: which policy and rule allows or denies a flow from one pod to another.
struct CtlExplainCommand: AsyncRunnable {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Say which policy and rule allows or denies traffic from one pod to another on a port."
    )

    @Argument(help: "The source pod as NAMESPACE/NAME.") var source: String
    @Argument(help: "The destination pod as NAMESPACE/NAME.") var destination: String
    @Option(help: "Destination port.") var port: UInt16
    @Option(help: "Protocol: TCP, UDP, SCTP or a number.") var `protocol`: String = "TCP"

    func runAsync() async throws {
        guard let proto = IPProtocol(IntOrString.string(`protocol`.uppercased())) ?? Int(`protocol`).flatMap({ IPProtocol(IntOrString.int($0)) }) else {
            throw ValidationError("--protocol \(`protocol`) is not TCP, UDP, SCTP or a protocol number")
        }
        let api = try KubeClient(connection: DatastoreConfig.load())
        func endpoint(_ text: String) async throws -> WorkloadEndpoint {
            let parts = text.split(separator: "/").map(String.init)
            guard parts.count == 2 else { throw ValidationError("\"\(text)\" is not NAMESPACE/NAME") }
            let pod = try await api.get(Pod.self, name: parts[1], namespace: parts[0])
            guard let e = WorkloadEndpoint(pod: pod), !e.addresses.isEmpty else {
                throw ValidationError("pod \(text) has no Calico endpoint (not scheduled, host-networked or without an address)")
            }
            return e
        }
        let flow = CtlFlow(source: try await endpoint(source), destination: try await endpoint(destination), protocol: proto, port: port)

        var profiles: [String: Profile] = [:]
        for ns in try await api.list(Namespace.self).items { let p = Profile(namespace: ns); profiles[p.name] = p }
        for sa in try await api.list(ServiceAccount.self).items { let p = Profile(serviceAccount: sa); profiles[p.name] = p }
        var policies: [Policy] = []
        var skipped: [String] = []
        for p in try await api.list(K8sNetworkPolicy.self).items {
            do { policies.append(try K8sPolicyConversion.policy(p)) } catch { skipped.append("\(p.metadata.name): \(error)") }
        }
        for p in try await api.list(CalicoNetworkPolicy.self).items {
            do { policies.append(try Policy(calico: p)) } catch { skipped.append("\(p.metadata.name): \(error)") }
        }
        for p in try await api.list(GlobalNetworkPolicy.self).items {
            do { policies.append(try Policy(global: p)) } catch { skipped.append("\(p.metadata.name): \(error)") }
        }
        for s in skipped { FileHandle.standardError.write(Data("skipped (felix leaves it out too): \(s)\n".utf8)) }
        let verdict = CtlFlowExplainer.explain(flow, policies: policies, profiles: profiles)
        for step in verdict.steps { print(step) }
        print("\(source) -> \(destination) \(`protocol`.uppercased())/\(port): \(verdict.allowed ? "ALLOWED" : "DENIED")")
        if !verdict.allowed { throw ExitCode(1) }
    }
}
