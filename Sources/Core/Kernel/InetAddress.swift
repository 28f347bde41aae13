#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address as the kernel sees it: 4 or 16 network-order bytes.
/// (Named `Inet…` so it never collides with the BGP codec's own `IPAddress` in modules that import both.)
public struct InetAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    public enum Family: Sendable, Hashable {
        case ipv4, ipv6
        /// AF_INET / AF_INET6.
        public var addressFamily: Int32 { self == .ipv4 ? Int32(AF_INET) : Int32(AF_INET6) }
        public var bitWidth: Int { self == .ipv4 ? 32 : 128 }
    }

    /// Network-order bytes, exactly 4 or 16 of them.
    public let bytes: [UInt8]

    public var family: Family { bytes.count == 4 ? .ipv4 : .ipv6 }

    /// From 4 or 16 network-order bytes; anything else is not an address.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (no zone, no prefix).
    public init?(_ text: String) {
        if text.contains(":") {
            var raw = in6_addr()
            guard inet_pton(AF_INET6, text, &raw) == 1 else { return nil }
            self.bytes = withUnsafeBytes(of: &raw) { Array($0) }
        } else {
            var raw = in_addr()
            guard inet_pton(AF_INET, text, &raw) == 1 else { return nil }
            self.bytes = withUnsafeBytes(of: &raw) { Array($0) }
        }
    }

    /// Canonical text (RFC 5952 for IPv6), as `ip` prints it.
    public var description: String {
        var raw = bytes
        var out = [CChar](repeating: 0, count: 64)
        guard inet_ntop(family.addressFamily, &raw, &out, socklen_t(out.count)) != nil else { return "?" }
        return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Keeps the first `length` bits and zeroes the rest.
    public func masked(to length: Int) -> InetAddress {
        var out = bytes
        for i in out.indices {
            let keep = max(0, min(8, length - i * 8))
            out[i] &= keep == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
        }
        return InetAddress(bytes: out)!
    }

    public static func < (a: InetAddress, b: InetAddress) -> Bool {
        a.bytes.count != b.bytes.count ? a.bytes.count < b.bytes.count : a.bytes.lexicographicallyPrecedes(b.bytes)
    }
}

/// An address with a prefix length: `10.0.0.0/24`, `fd00::1/128`. The address is kept as given
/// (an interface address like `10.0.0.5/24` keeps its host bits); `network` masks them.
public struct InetPrefix: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let address: InetAddress
    public let length: Int

    public var family: InetAddress.Family { address.family }

    public init?(address: InetAddress, length: Int) {
        guard length >= 0, length <= address.family.bitWidth else { return nil }
        self.address = address
        self.length = length
    }

    /// `a.b.c.d/len`, `x::y/len`, or a bare address (a host prefix, /32 or /128).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = InetAddress(String(parts[0])) else { return nil }
        guard parts.count == 2 else {
            self.init(address: address, length: address.family.bitWidth)
            return
        }
        let lengthText = parts[1]
        guard !lengthText.isEmpty, lengthText.count <= 3,
              lengthText.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) }),
              let length = Int(lengthText) else { return nil }
        self.init(address: address, length: length)
    }

    /// The host prefix of one address: /32 or /128.
    public static func host(_ address: InetAddress) -> InetPrefix {
        InetPrefix(address: address, length: address.family.bitWidth)!
    }

    /// The default route of a family: 0.0.0.0/0 or ::/0.
    public static func defaultRoute(_ family: InetAddress.Family) -> InetPrefix {
        InetPrefix(address: InetAddress(bytes: [UInt8](repeating: 0, count: family.bitWidth / 8))!, length: 0)!
    }

    /// The prefix with its host bits cleared.
    public var network: InetPrefix { InetPrefix(address: address.masked(to: length), length: length)! }

    public var isHost: Bool { length == family.bitWidth }

    public func contains(_ other: InetAddress) -> Bool {
        other.family == family && other.masked(to: length) == address.masked(to: length)
    }

    public var description: String { "\(address)/\(length)" }

    public static func < (a: InetPrefix, b: InetPrefix) -> Bool {
        a.address != b.address ? a.address < b.address : a.length < b.length
    }
}
