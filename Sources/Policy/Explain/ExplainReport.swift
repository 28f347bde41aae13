import Core
import Foundation

/// How `ctl explain` prints an answer: readable text, or one JSON document.
public enum ExplainReport {
    /// The flow, each direction's trace, one summary line per direction, and the verdict line
    /// `<from> -> <to> <service>: ALLOWED|DENIED`.
    public static func text(_ flow: ExplainFlow, _ result: ExplainResult) -> String {
        var out = "flow: \(flow.source) \(flow.sourceAddress.addressText) (node \(result.egress.node)) -> "
            + "\(flow.destination) \(flow.destinationAddress.addressText) (node \(result.ingress.node)), \(flow.serviceText)"
            + (flow.sourcePort.map { " from port \($0)" } ?? "") + "\n"
        for d in [result.egress, result.ingress] {
            out += "\(d.direction == .egress ? "egress from" : "ingress to") \(d.endpoint) on node \(d.node):\n"
            for step in d.trace { out += "  \(step.text)\n" }
        }
        out += result.egress.summary + "\n" + result.ingress.summary + "\n"
        out += "\(flow.source) -> \(flow.destination) \(flow.serviceText): \(result.allowed ? "ALLOWED" : "DENIED")\n"
        return out
    }

    struct Document: Encodable {
        struct Flow: Encodable {
            var from, to, sourceAddress, destinationAddress, `protocol`: String
            var sourcePort, destinationPort: UInt16?
            var icmpType, icmpCode: UInt8?
        }
        struct Direction: Encodable {
            var endpoint, node, summary: String
            var allowed: Bool
            var decidedBy: ExplainStep
            var trace: [ExplainStep]
        }
        var flow: Flow
        var allowed: Bool
        var egress, ingress: Direction
    }

    public static func json(_ flow: ExplainFlow, _ result: ExplainResult) throws -> String {
        func direction(_ d: ExplainDirection) -> Document.Direction {
            Document.Direction(endpoint: d.endpoint, node: d.node, summary: d.summary, allowed: d.allowed, decidedBy: d.decidedBy, trace: d.trace)
        }
        let doc = Document(flow: .init(from: flow.source, to: flow.destination, sourceAddress: flow.sourceAddress.addressText,
                                       destinationAddress: flow.destinationAddress.addressText, protocol: flow.protocol.description,
                                       sourcePort: flow.sourcePort, destinationPort: flow.destinationPort,
                                       icmpType: flow.icmpType, icmpCode: flow.icmpCode),
                           allowed: result.allowed, egress: direction(result.egress), ingress: direction(result.ingress))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(doc), as: UTF8.self) + "\n"
    }
}
