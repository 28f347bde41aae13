/// Why a policy could not be converted; the policy is then left out whole, never half-applied.
public enum PolicyConversionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A selector field does not parse.
    case badSelector(field: String, SelectorSyntaxError)
    /// A Kubernetes LabelSelector has no Calico equivalent.
    case badLabelSelector(field: String, SelectorConversionError)
    case badNet(field: String, value: String)
    case badProtocol(field: String, value: String)
    case badPort(field: String, value: String)
    case badAction(field: String, value: String)
    case badICMP(field: String)
    case badIPVersion(field: String, value: Int)
    case badPolicyType(String)

    public var description: String {
        switch self {
        case .badSelector(let field, let error): return "\(field): \(error)"
        case .badLabelSelector(let field, let error): return "\(field): \(error)"
        case .badNet(let field, let value): return "\(field): \"\(value)\" is not a CIDR; write e.g. 10.0.0.0/8"
        case .badProtocol(let field, let value):
            return "\(field): unknown protocol \"\(value)\"; use TCP, UDP, SCTP, ICMP, ICMPv6, UDPLite or 1-255"
        case .badPort(let field, let value): return "\(field): bad port \"\(value)\"; use 1-65535, min:max or a port name"
        case .badAction(let field, let value): return "\(field): unknown action \"\(value)\"; use Allow, Deny, Log or Pass"
        case .badICMP(let field): return "\(field): ICMP type and code must be 0-255, and a code needs a type"
        case .badIPVersion(let field, let value): return "\(field): ipVersion \(value); use 4 or 6"
        case .badPolicyType(let value): return "types: unknown \"\(value)\"; use Ingress or Egress"
        }
    }
}
