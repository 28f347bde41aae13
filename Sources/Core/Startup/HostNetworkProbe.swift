#if canImport(Glibc)
import Glibc
#endif
import Foundation
import CCalicoSystem

/// The host-facing half of autodetection: the interfaces and addresses netlink reports, and the
/// kernel's choice of source address towards a destination.
public enum HostNetworkProbe {
    /// Interfaces in index order with their addresses (netlink, in the caller's namespace).
    public static func interfaces(netlink: Netlink) throws(StartupError) -> [HostInterface] {
        do {
            let links = try netlink.links().sorted { $0.index < $1.index }
            let addresses = try netlink.addresses()
            return links.map { link in
                HostInterface(name: link.name, isUp: link.isUp,
                              addresses: addresses.filter { $0.linkIndex == link.index }.map(\.prefix))
            }
        } catch {
            throw .hostNetwork("\(error)")
        }
    }

    /// The source address of the kernel's route to `destination` (an address or a host name):
    /// a UDP socket is connected, which selects the route and source without sending anything.
    public static func sourceAddress(towards destination: String, family: InetAddress.Family) -> InetAddress? {
        guard let target = resolve(destination, family: family) else { return nil }
        let fd = socket(family.addressFamily, cs_sock_dgram, 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if family == .ipv4 {
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = in_port_t(53).bigEndian
            withUnsafeMutableBytes(of: &sin.sin_addr) { $0.copyBytes(from: target.bytes) }
            let rc = withUnsafePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard rc == 0 else { return nil }
            var local = sockaddr_in()
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let g = withUnsafeMutablePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
            guard g == 0 else { return nil }
            return InetAddress(bytes: withUnsafeBytes(of: &local.sin_addr) { Array($0) })
        } else {
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = in_port_t(53).bigEndian
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyBytes(from: target.bytes) }
            let rc = withUnsafePointer(to: &sin6) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
            guard rc == 0 else { return nil }
            var local = sockaddr_in6()
            var len = socklen_t(MemoryLayout<sockaddr_in6>.size)
            let g = withUnsafeMutablePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
            guard g == 0 else { return nil }
            return InetAddress(bytes: withUnsafeBytes(of: &local.sin6_addr) { Array($0) })
        }
    }

    /// A literal address, or the first address of the family that the resolver gives for a name.
    static func resolve(_ destination: String, family: InetAddress.Family) -> InetAddress? {
        if let a = InetAddress(destination) { return a.family == family ? a : nil }
        var hints = addrinfo()
        hints.ai_family = family.addressFamily
        hints.ai_socktype = cs_sock_dgram
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(destination, nil, &hints, &result) == 0, let first = result else { return nil }
        defer { freeaddrinfo(result) }
        guard let sa = first.pointee.ai_addr else { return nil }
        if family == .ipv4 {
            return sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { p in
                var addr = p.pointee.sin_addr
                return InetAddress(bytes: withUnsafeBytes(of: &addr) { Array($0) })
            }
        }
        return sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { p in
            var addr = p.pointee.sin6_addr
            return InetAddress(bytes: withUnsafeBytes(of: &addr) { Array($0) })
        }
    }
}
