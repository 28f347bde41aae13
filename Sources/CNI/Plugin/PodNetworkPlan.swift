import Core

/// Everything ADD will make for one pod, decided from the request and the IPAM result before
/// any kernel work (pure, so every choice is unit-tested): the veth pair, the pod's addresses,
/// its gateway neighbours and routes, the host side's sysctls and routes, and the result.
public struct PodNetworkPlan: Sendable, Hashable {
    /// The MAC of every host-side veth; the pod's static neighbour entries point at it.
    public static let hostMAC = MACAddress.calicoHostVeth
    /// The pod's IPv4 gateway: a link-local address nobody owns; the host answers ARP for it
    /// by proxy ARP (and the static neighbour entry means the pod never has to ask).
    public static let ipv4Gateway = InetAddress("169.254.1.1")!
    /// The pod's IPv6 gateway, reached through a static neighbour entry to the host MAC.
    public static let ipv6Gateway = InetAddress("fe80::1")!

    public enum PodRoute: Sendable, Hashable {
        /// `<dst> scope link dev <pod interface>`.
        case onLink(InetPrefix)
        /// `<dst> via <gateway> dev <pod interface>`.
        case via(InetPrefix, InetAddress)
    }

    public var hostVeth: String
    public var podInterface: String
    public var netns: String
    public var mtu: Int
    /// The pod's addresses as /32 or /128.
    public var addresses: [InetPrefix]
    /// Gateways that get a permanent neighbour entry to `hostMAC` in the pod.
    public var neighbours: [InetAddress]
    public var podRoutes: [PodRoute]
    public var hostSysctls: [SysctlSetting]
    /// Destinations routed `scope link dev <hostVeth>` on the host; empty when felix owns routes.
    public var hostRoutes: [InetPrefix]

    public var hasIPv4: Bool { addresses.contains { $0.family == .ipv4 } }
    public var hasIPv6: Bool { addresses.contains { $0.family == .ipv6 } }

    public static func make(hostVeth: String, podInterface: String, netns: String, mtu: Int,
                            ipam: CNIResult, felixOwnsRoutes: Bool) throws(CNIError) -> PodNetworkPlan {
        var addresses: [InetPrefix] = []
        for ip in ipam.ips {
            guard let a = InetAddress(bytes: ip.address.address.bytes) else { continue }
            let host = InetPrefix.host(a)
            if !addresses.contains(host) { addresses.append(host) }
        }
        guard !addresses.isEmpty else {
            throw CNIError(.ipamFailure, "the IPAM plugin returned no addresses (its result has no \"ips\")")
        }
        var neighbours: [InetAddress] = []
        var routes: [PodRoute] = []
        if addresses.contains(where: { $0.family == .ipv4 }) {
            neighbours.append(ipv4Gateway)
            routes.append(.onLink(InetPrefix.host(ipv4Gateway)))
            routes.append(.via(InetPrefix.defaultRoute(.ipv4), ipv4Gateway))
        }
        if addresses.contains(where: { $0.family == .ipv6 }) {
            neighbours.append(ipv6Gateway)
            routes.append(.via(InetPrefix.defaultRoute(.ipv6), ipv6Gateway))
        }
        let v4 = addresses.contains { $0.family == .ipv4 }
        let v6 = addresses.contains { $0.family == .ipv6 }
        return PodNetworkPlan(
            hostVeth: hostVeth, podInterface: podInterface, netns: netns, mtu: mtu,
            addresses: addresses, neighbours: neighbours, podRoutes: routes,
            hostSysctls: Sysctl.calicoHostVeth(hostVeth, ipv4: v4, ipv6: v6),
            hostRoutes: felixOwnsRoutes ? [] : addresses)
    }

    /// The ADD result: the host veth and the pod interface (in its sandbox), each address as
    /// /32 or /128 on the pod interface, and the pod's default routes.
    public func result(podMAC: MACAddress?, dns: CNIResult.DNS = CNIResult.DNS()) -> CNIResult {
        let ips = addresses.compactMap { p -> CNIResult.IPConfig? in
            guard let a = CNIIPAddress(bytes: p.address.bytes) else { return nil }
            return CNIResult.IPConfig(address: CNIIPNetwork.host(a), interface: 1)
        }
        let routes = podRoutes.compactMap { r -> CNIResult.Route? in
            guard case .via(let dst, let gw) = r, let d = CNIIPAddress(bytes: dst.address.bytes),
                  let g = CNIIPAddress(bytes: gw.bytes), let net = CNIIPNetwork(address: d, prefixLength: dst.length)
            else { return nil }
            return CNIResult.Route(dst: net, gw: g)
        }
        return CNIResult(
            interfaces: [
                CNIResult.Interface(name: hostVeth, mac: Self.hostMAC.description, mtu: mtu),
                CNIResult.Interface(name: podInterface, mac: podMAC?.description, sandbox: netns, mtu: mtu),
            ],
            ips: ips, routes: routes, dns: dns)
    }
}
