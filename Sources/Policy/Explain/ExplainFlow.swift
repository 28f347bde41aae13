import Core

/// The first packet of a new connection from one pod to another, as felix's rules see it:
/// addresses, protocol, ports (or ICMP type and code). Replies are not explained: conntrack
/// accepts them once the first packet was allowed.
public struct ExplainFlow: Sendable, Hashable {
    /// Endpoint keys, `<namespace>/<pod>`.
    public var source: String
    public var destination: String
    public var sourceAddress: IPNet
    public var destinationAddress: IPNet
    public var `protocol`: IPProtocol
    /// nil: not given; a rule that matches on source ports then counts as not matching.
    public var sourcePort: UInt16?
    public var destinationPort: UInt16?
    public var icmpType: UInt8?
    public var icmpCode: UInt8?

    public init(source: String, destination: String, sourceAddress: IPNet, destinationAddress: IPNet,
                protocol: IPProtocol, sourcePort: UInt16? = nil, destinationPort: UInt16? = nil,
                icmpType: UInt8? = nil, icmpCode: UInt8? = nil) {
        self.source = source
        self.destination = destination
        self.sourceAddress = sourceAddress
        self.destinationAddress = destinationAddress
        self.protocol = `protocol`
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.icmpType = icmpType
        self.icmpCode = icmpCode
    }

    public var ipVersion: Int { sourceAddress.ipVersion }

    /// `TCP/80`, `ICMP type 8 code 0`, `SCTP`.
    public var serviceText: String {
        if `protocol` == .icmp || `protocol` == .icmpv6 {
            return "\(`protocol`)" + (icmpType.map { " type \($0)" } ?? "") + (icmpCode.map { " code \($0)" } ?? "")
        }
        return "\(`protocol`)" + (destinationPort.map { "/\($0)" } ?? "")
    }
}
