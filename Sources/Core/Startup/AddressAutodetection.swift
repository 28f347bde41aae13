import Foundation

/// One host interface as autodetection sees it: its name, whether it is up, and its addresses
/// with their prefix lengths, in the kernel's order.
public struct HostInterface: Sendable, Hashable {
    public var name: String
    public var isUp: Bool
    public var addresses: [InetPrefix]

    public init(name: String, isUp: Bool = true, addresses: [InetPrefix]) {
        self.name = name
        self.isUp = isUp
        self.addresses = addresses
    }
}

/// Picks the node's address from the host's interfaces: the pure half of autodetection. The
/// caller gathers the interfaces (netlink), the can-reach source address (a kernel route lookup)
/// and the Node's InternalIPs, and this decides.
public enum AddressAutodetection {
    /// The chosen address as a CIDR (address plus its interface's prefix length).
    public static func choose(method: AutodetectionMethod, family: InetAddress.Family, interfaces: [HostInterface],
                              canReachSource: InetAddress? = nil, internalIPs: [String] = []) throws(StartupError) -> InetPrefix {
        let familyName = family == .ipv4 ? "IPv4" : "IPv6"
        func none(_ detail: String) -> StartupError {
            .noAddressFound(family: familyName, method: method.description, detail: detail)
        }
        let candidates = interfaces.filter(\.isUp)
        switch method {
        case .firstFound:
            let allowed = candidates.filter { !matches($0.name, AutodetectionMethod.defaultExcludedInterfaces) }
            if let p = firstUsable(allowed, family) { return p }
            throw none("no up interface outside the default exclusions has a global \(familyName) address; looked at "
                       + names(allowed))
        case .interface(let patterns):
            let allowed = candidates.filter { matches($0.name, patterns) }
            if let p = firstUsable(allowed, family) { return p }
            throw none(allowed.isEmpty ? "no up interface matches; interfaces: \(names(candidates))"
                                       : "matching interfaces \(names(allowed)) have no global \(familyName) address")
        case .skipInterface(let patterns):
            let allowed = candidates.filter { !matches($0.name, patterns) && !matches($0.name, ["^lo$"]) }
            if let p = firstUsable(allowed, family) { return p }
            throw none("the remaining interfaces \(names(allowed)) have no global \(familyName) address")
        case .cidr(let cidrs):
            for iface in candidates {
                for a in iface.addresses where a.family == family && isUsable(a.address) && cidrs.contains(where: { $0.contains(a.address) }) {
                    return a
                }
            }
            throw none("no interface address lies inside " + cidrs.map(\.description).joined(separator: ", "))
        case .canReach(let destination):
            guard let source = canReachSource, source.family == family else {
                throw none("the kernel has no \(familyName) route to \(destination)")
            }
            return prefix(of: source, in: interfaces)
        case .kubernetesInternalIP:
            let ips = internalIPs.compactMap { InetAddress($0) }.filter { $0.family == family }
            guard let ip = ips.first else {
                throw none("the Node's status.addresses has no \(familyName) InternalIP")
            }
            return prefix(of: ip, in: interfaces)
        }
    }

    /// `address` with the prefix length of the interface address that holds it (the host
    /// prefix when no local interface does, as for an address behind NAT).
    public static func prefix(of address: InetAddress, in interfaces: [HostInterface]) -> InetPrefix {
        for iface in interfaces {
            if let p = iface.addresses.first(where: { $0.address == address }) { return p }
        }
        return .host(address)
    }

    /// Not loopback, link-local, unspecified or multicast: an address other nodes can reach.
    public static func isUsable(_ a: InetAddress) -> Bool {
        let b = a.bytes
        if a.family == .ipv4 {
            if b[0] == 127 || b[0] == 0 || (b[0] == 169 && b[1] == 254) || b[0] >= 224 { return false }
            return true
        }
        if b.allSatisfy({ $0 == 0 }) { return false }                          // ::
        if b.dropLast().allSatisfy({ $0 == 0 }) && b[15] == 1 { return false }  // ::1
        if b[0] == 0xfe && (b[1] & 0xc0) == 0x80 { return false }              // fe80::/10
        if b[0] == 0xff { return false }                                        // multicast
        return true
    }

    /// True when `name` matches any pattern (unanchored, as Go's regexp.MatchString).
    static func matches(_ name: String, _ patterns: [String]) -> Bool {
        patterns.contains { p in (try? Regex(p)).map { name.contains($0) } ?? false }
    }

    private static func firstUsable(_ interfaces: [HostInterface], _ family: InetAddress.Family) -> InetPrefix? {
        for iface in interfaces {
            if let p = iface.addresses.first(where: { $0.family == family && isUsable($0.address) }) { return p }
        }
        return nil
    }

    private static func names(_ interfaces: [HostInterface]) -> String {
        interfaces.isEmpty ? "(none)" : interfaces.map(\.name).joined(separator: ", ")
    }
}
