import ArgumentParser
import Core
import Foundation
import Policy

/// `ctl explain`: which policy and rule allow or deny a new connection from one pod to another,
/// computed by felix's own conversion and calculation over what the API holds now.
struct CtlExplainCommand: AsyncRunnable {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Say which policy and rule allows or denies traffic from one pod to another on a port.",
        discussion: """
        Walks the source's egress then the destination's ingress in felix's order (tiers, policy \
        order, rules, Pass, the default deny of a selecting policy, profiles). Exits 0 whether the \
        flow is allowed or denied; 2 when it cannot answer (pod not found, no address).
        """
    )

    enum Output: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(help: "The source pod as NAMESPACE/NAME.") var from: String?
    @Option(help: "The destination pod as NAMESPACE/NAME.") var to: String?
    @Argument(help: "The source and destination pods, when --from/--to are not given.") var pods: [String] = []
    @Option(help: "Destination port (required for TCP, UDP and SCTP).") var port: UInt16?
    @Option(help: "Protocol: TCP, UDP, SCTP, ICMP, ICMPv6 or a number.") var `protocol`: String = "TCP"
    @Option(help: "Source port, for rules that match on one.") var sourcePort: UInt16?
    @Option(help: "ICMP type (default 8, echo request; 128 for ICMPv6).") var icmpType: UInt8?
    @Option(help: "ICMP code (default 0).") var icmpCode: UInt8?
    @Option(help: "IP version of the address pair (default: IPv4 when both pods have one).") var ipVersion: Int?
    @Option(name: [.short, .customLong("output")], help: "Output format: text or json.") var output: Output = .text

    func validate() throws {
        guard (from == nil) == (to == nil) else { throw ValidationError("give both --from and --to") }
        guard from != nil ? pods.isEmpty : pods.count == 2 else {
            throw ValidationError("name the pods as --from NAMESPACE/NAME --to NAMESPACE/NAME")
        }
        if let v = ipVersion, v != 4, v != 6 { throw ValidationError("--ip-version must be 4 or 6") }
    }

    func runAsync() async throws {
        guard let proto = IPProtocol(.string(`protocol`)) else {
            throw ValidationError("--protocol \(`protocol`) is not TCP, UDP, SCTP, ICMP, ICMPv6 or a protocol number 1-255")
        }
        if proto.hasPorts && port == nil { throw ValidationError("--port is required for \(proto)") }
        let isICMP = proto == .icmp || proto == .icmpv6
        let snapshot = try await ExplainSnapshot.loadWarning()
        let source = from ?? pods[0], destination = to ?? pods[1]
        do {
            let (flow, result) = try snapshot.explain(
                from: source, to: destination, protocol: proto, sourcePort: sourcePort, destinationPort: isICMP ? nil : port,
                icmpType: isICMP ? (icmpType ?? (proto == .icmpv6 ? 128 : 8)) : nil, icmpCode: isICMP ? (icmpCode ?? 0) : nil,
                ipVersion: ipVersion ?? (proto == .icmpv6 ? 6 : proto == .icmp ? 4 : nil))
            print(output == .json ? try ExplainReport.json(flow, result) : ExplainReport.text(flow, result), terminator: "")
        } catch let error as ExplainError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}

extension ExplainSnapshot {
    /// What the API holds now, as felix's reflectors would deliver it; says on stderr what felix
    /// would not see (kinds not installed) or would leave out (policies that do not convert).
    static func loadWarning() async throws -> ExplainSnapshot {
        let api = try KubeClient(connection: DatastoreConfig.load())
        let snapshot = try await load(api: api, environment: ProcessInfo.processInfo.environment)
        func warn(_ text: String) { FileHandle.standardError.write(Data("warning: \(text)\n".utf8)) }
        for kind in snapshot.missingKinds { warn("\(kind) cannot be listed (custom resource not installed): counted as none") }
        for (key, reason) in snapshot.policyErrors.sorted(by: { $0.key < $1.key }) {
            warn("policy \(key) left out, as felix leaves it out: \(reason)")
        }
        return snapshot
    }
}
