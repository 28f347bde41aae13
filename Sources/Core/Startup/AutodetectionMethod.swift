import Foundation

/// How startup picks the node's address when IP (IP6) is `autodetect`: Calico's
/// IP_AUTODETECTION_METHOD / IP6_AUTODETECTION_METHOD values.
public enum AutodetectionMethod: Sendable, Equatable, CustomStringConvertible {
    /// The first usable address of the first interface not in the default exclusion list.
    case firstFound
    /// The source address the kernel would use towards the destination (an address or host name).
    case canReach(String)
    /// The first usable address on an interface whose name matches one of the regexes.
    case interface([String])
    /// Like first-found, skipping interfaces whose names match one of the regexes.
    case skipInterface([String])
    /// The first usable address inside one of the CIDRs.
    case cidr([InetPrefix])
    /// The Node's InternalIP of the family, as the kubelet reported it.
    case kubernetesInternalIP

    /// Interfaces first-found never considers (Calico's default exclusions): bridges, tunnels,
    /// pod veths and other software interfaces whose addresses are not the node's.
    public static let defaultExcludedInterfaces = [
        "^docker.*", "^cbr.*", "^dummy.*", "^virbr.*", "^lxcbr.*", "^veth.*", "^lo$", "^cali.*",
        "^tunl.*", "^flannel.*", "^kube-ipvs.*", "^cni.*", "^vxlan.calico.*", "^vxlan-v6.calico.*",
        "^wireguard.cali.*", "^wg-v6.cali.*", "^nodelocaldns.*",
    ]

    /// Parses a method; `variable` names the environment variable in errors. Empty means first-found.
    public static func parse(_ text: String, variable: String = "IP_AUTODETECTION_METHOD") throws(StartupError) -> AutodetectionMethod {
        let t = text.trimmingCharacters(in: .whitespaces)
        let expected = "first-found, can-reach=DEST, interface=REGEX[,REGEX], skip-interface=REGEX[,REGEX], "
            + "cidr=CIDR[,CIDR] or kubernetes-internal-ip"
        func invalid(_ why: String = "") -> StartupError {
            .invalidSetting(variable: variable, value: text, expected: why.isEmpty ? expected : why)
        }
        if t.isEmpty || t == "first-found" { return .firstFound }
        if t == "kubernetes-internal-ip" { return .kubernetesInternalIP }
        guard let eq = t.firstIndex(of: "=") else { throw invalid() }
        let key = String(t[..<eq]), value = String(t[t.index(after: eq)...])
        let list = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !list.isEmpty else { throw invalid("a value after \"\(key)=\"") }
        switch key {
        case "can-reach":
            return .canReach(value.trimmingCharacters(in: .whitespaces))
        case "interface", "skip-interface":
            for pattern in list where (try? Regex(pattern)) == nil {
                throw invalid("valid regular expressions after \"\(key)=\" (\"\(pattern)\" does not compile)")
            }
            return key == "interface" ? .interface(list) : .skipInterface(list)
        case "cidr":
            var cidrs: [InetPrefix] = []
            for c in list {
                guard let p = InetPrefix(c), c.contains("/") else { throw invalid("CIDRs after \"cidr=\" (\"\(c)\" is not one)") }
                cidrs.append(p.network)
            }
            return .cidr(cidrs)
        default:
            throw invalid()
        }
    }

    public var description: String {
        switch self {
        case .firstFound: return "first-found"
        case .canReach(let d): return "can-reach=\(d)"
        case .interface(let r): return "interface=" + r.joined(separator: ",")
        case .skipInterface(let r): return "skip-interface=" + r.joined(separator: ",")
        case .cidr(let c): return "cidr=" + c.map(\.description).joined(separator: ",")
        case .kubernetesInternalIP: return "kubernetes-internal-ip"
        }
    }
}
