import Core
import Foundation

/// What the peer planner needs of one Node: the BGP addresses, AS number and route-reflector
/// cluster ID that `calico-node startup` writes as `projectcalico.org/` annotations, its labels
/// (for BGPPeer selectors) and its pod CIDRs (advertised under host-local IPAM).
public struct NodeBGPSpec: Hashable, Sendable {
    public static let ipv4AddressAnnotation = "projectcalico.org/IPv4Address"
    public static let ipv6AddressAnnotation = "projectcalico.org/IPv6Address"
    public static let asNumberAnnotation = "projectcalico.org/ASNumber"
    public static let clusterIDAnnotation = "projectcalico.org/RouteReflectorClusterID"

    public var name: String
    public var ipv4: IPAddress?
    public var ipv6: IPAddress?
    public var asNumber: UInt32?
    /// Set on route-reflector nodes (an IPv4 dotted quad).
    public var routeReflectorClusterID: UInt32?
    public var labels: [String: String]
    public var podCIDRs: [IPPrefix]

    public init(name: String, ipv4: IPAddress? = nil, ipv6: IPAddress? = nil, asNumber: UInt32? = nil,
                routeReflectorClusterID: UInt32? = nil, labels: [String: String] = [:], podCIDRs: [IPPrefix] = []) {
        self.name = name
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.asNumber = asNumber
        self.routeReflectorClusterID = routeReflectorClusterID
        self.labels = labels
        self.podCIDRs = podCIDRs
    }

    /// Reads a Node; malformed annotations count as absent (the node then takes no part in BGP
    /// for that family), as Calico's confd ignores what it cannot parse.
    public init(node: K8sNode) {
        let a = node.metadata.annotations ?? [:]
        var cidrs = node.spec?.podCIDRs ?? []
        if cidrs.isEmpty, let one = node.spec?.podCIDR { cidrs = [one] }
        self.init(name: node.metadata.name,
                  ipv4: a[Self.ipv4AddressAnnotation].flatMap { Self.address($0, family: .ipv4) },
                  ipv6: a[Self.ipv6AddressAnnotation].flatMap { Self.address($0, family: .ipv6) },
                  asNumber: a[Self.asNumberAnnotation].flatMap(Self.parseASN),
                  routeReflectorClusterID: a[Self.clusterIDAnnotation].flatMap(Self.parseClusterID),
                  labels: node.metadata.labels ?? [:],
                  podCIDRs: cidrs.compactMap { IPPrefix($0.trimmingCharacters(in: .whitespaces)) })
    }

    public var isRouteReflector: Bool { routeReflectorClusterID != nil }

    public func address(_ family: AddressFamily.AFI) -> IPAddress? { family == .ipv4 ? ipv4 : ipv6 }

    /// `10.0.0.1/24` or `10.0.0.1`: the address part, of the wanted family.
    static func address(_ text: String, family: AddressFamily.AFI) -> IPAddress? {
        let host = text.split(separator: "/").first.map(String.init) ?? ""
        guard let a = IPAddress(host.trimmingCharacters(in: .whitespaces)), a.family == family else { return nil }
        return a
    }

    /// `64512` (asplain) or `1.10` (asdot, RFC 5396).
    public static func parseASN(_ text: String) -> UInt32? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let n = UInt32(t) { return n }
        let parts = t.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let hi = UInt16(parts[0]), let lo = UInt16(parts[1]) else { return nil }
        return UInt32(hi) << 16 | UInt32(lo)
    }

    /// A cluster ID is written as an IPv4 address (`244.0.0.1`).
    public static func parseClusterID(_ text: String) -> UInt32? {
        guard case .v4(let v)? = IPAddress(text.trimmingCharacters(in: .whitespaces)) else { return nil }
        return v
    }
}
