#if canImport(Glibc)
import Glibc
#endif

/// A kernel parameter under /proc/sys, as path components, so an interface name with a dot
/// (`eth0.100`) stays one component (dotted `net.ipv4.conf.eth0.100.x` would be ambiguous).
public struct SysctlKey: Hashable, Sendable, CustomStringConvertible {
    public let components: [String]

    /// Components are checked: none empty, `.`/`..`, or containing `/`.
    public init?(_ components: [String]) {
        guard !components.isEmpty, components.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." && !$0.contains("/") && !$0.contains("\0") })
        else { return nil }
        self.components = components
    }

    /// `net.ipv4.ip_forward`-style text where no component contains a dot.
    public init?(dotted: String) { self.init(dotted.split(separator: ".", omittingEmptySubsequences: false).map(String.init)) }

    /// net.ipv4.conf.IFACE.NAME (IFACE may also be `all` or `default`).
    public static func ipv4Conf(_ interface: String, _ name: String) -> SysctlKey? { SysctlKey(["net", "ipv4", "conf", interface, name]) }
    /// net.ipv6.conf.IFACE.NAME
    public static func ipv6Conf(_ interface: String, _ name: String) -> SysctlKey? { SysctlKey(["net", "ipv6", "conf", interface, name]) }
    /// net.ipv4.neigh.IFACE.NAME
    public static func ipv4Neigh(_ interface: String, _ name: String) -> SysctlKey? { SysctlKey(["net", "ipv4", "neigh", interface, name]) }

    /// The file under /proc/sys.
    public var path: String { "/proc/sys/" + components.joined(separator: "/") }

    /// The `sysctl` spelling (with `/` between components when one holds a dot, as sysctl(8) accepts).
    public var description: String {
        components.joined(separator: components.contains { $0.contains(".") } ? "/" : ".")
    }
}

/// One value to write.
public struct SysctlSetting: Hashable, Sendable, CustomStringConvertible {
    public var key: SysctlKey
    public var value: String
    public init(_ key: SysctlKey, _ value: String) { self.key = key; self.value = value }
    public var description: String { "\(key)=\(value)" }
}

/// Reads and writes /proc/sys. /proc/sys/net belongs to the network namespace of the thread that
/// opens it, so run these inside `NetNamespace.run` to reach a pod's values.
public enum Sysctl {
    public static func read(_ key: SysctlKey) throws(KernelError) -> String {
        let fd = open(key.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("read sysctl \(key)") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n >= 0 else { throw .system("read sysctl \(key)") }
        let text = String(decoding: buffer[..<n], as: UTF8.self)
        return String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }

    public static func write(_ key: SysctlKey, _ value: String) throws(KernelError) {
        let fd = open(key.path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("write sysctl \(key)=\(value)") }
        defer { close(fd) }
        let bytes = Array((value + "\n").utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw .system("write sysctl \(key)=\(value)") }
    }

    /// Writes every setting, carrying on past failures; returns the failures (empty: all applied).
    @discardableResult
    public static func apply(_ settings: [SysctlSetting]) -> [KernelError] {
        var failed: [KernelError] = []
        for s in settings {
            do { try write(s.key, s.value) } catch { failed.append(error) }
        }
        return failed
    }

    /// What Calico sets on a host-side workload veth `caliX`: IPv4 proxy ARP with no delay (the pod's
    /// 169.254.1.1 gateway is answered by the host), route_localnet, forwarding; IPv6 no router
    /// advertisements, proxy NDP, forwarding, no DAD. Empty if the name is not an interface name.
    public static func calicoHostVeth(_ interface: String, ipv4: Bool = true, ipv6: Bool = false) -> [SysctlSetting] {
        guard Link.isValidName(interface) else { return [] }
        var out: [SysctlSetting] = []
        func add(_ key: SysctlKey?, _ value: String) { if let key { out.append(SysctlSetting(key, value)) } }
        if ipv4 {
            add(.ipv4Conf(interface, "route_localnet"), "1")
            add(.ipv4Conf(interface, "proxy_arp"), "1")
            add(.ipv4Neigh(interface, "proxy_delay"), "0")
            add(.ipv4Conf(interface, "forwarding"), "1")
        }
        if ipv6 {
            add(.ipv6Conf(interface, "accept_ra"), "0")
            add(.ipv6Conf(interface, "proxy_ndp"), "1")
            add(.ipv6Conf(interface, "forwarding"), "1")
            add(.ipv6Conf(interface, "accept_dad"), "0")
        }
        return out
    }
}
