#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address held as integers (no heap storage), so millions of routes stay cheap.
public enum IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    case v4(UInt32)
    case v6(UInt64, UInt64)

    public var family: AddressFamily.AFI { if case .v4 = self { return .ipv4 } else { return .ipv6 } }
    public var bitWidth: Int { if case .v4 = self { return 32 } else { return 128 } }

    /// Parses dotted-quad or RFC 4291 text.
    public init?(_ text: String) {
        if text.contains(":") {
            var raw = in6_addr()
            guard inet_pton(AF_INET6, text, &raw) == 1 else { return nil }
            self.init(bytes: withUnsafeBytes(of: &raw) { Array($0) })
        } else {
            var raw = in_addr()
            guard inet_pton(AF_INET, text, &raw) == 1 else { return nil }
            self.init(bytes: withUnsafeBytes(of: &raw) { Array($0) })
        }
    }

    /// From 4 or 16 network-order bytes.
    public init?(bytes: [UInt8]) {
        var reader = WireReader(bytes)
        switch bytes.count {
        case 4: self = .v4(reader.u32()!)
        case 16: self = .v6(reader.u64()!, reader.u64()!)
        default: return nil
        }
    }

    public var bytes: [UInt8] {
        var w = WireWriter(capacity: 16)
        switch self {
        case .v4(let a): w.u32(a)
        case .v6(let hi, let lo): w.u64(hi); w.u64(lo)
        }
        return w.bytes
    }

    public var description: String {
        var raw = bytes
        let af = raw.count == 4 ? AF_INET : AF_INET6
        var out = [CChar](repeating: 0, count: 64)
        guard inet_ntop(af, &raw, &out, socklen_t(out.count)) != nil else { return "?" }
        return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Keeps the first `length` bits, zeroing the rest.
    public func masked(to length: Int) -> IPAddress {
        switch self {
        case .v4(let a):
            let l = max(0, min(32, length))
            return .v4(l == 0 ? 0 : a & (UInt32.max << UInt32(32 - l)))
        case .v6(let hi, let lo):
            let l = max(0, min(128, length))
            let hiMask: UInt64 = l >= 64 ? .max : (l == 0 ? 0 : UInt64.max << UInt64(64 - l))
            let loMask: UInt64 = l <= 64 ? 0 : (l == 128 ? .max : UInt64.max << UInt64(128 - l))
            return .v6(hi & hiMask, lo & loMask)
        }
    }

    /// IPv6 link-local unicast (fe80::/10).
    public var isIPv6LinkLocal: Bool {
        if case .v6(let hi, _) = self { return hi >> 54 == 0x3FA } else { return false }
    }

    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        switch (a, b) {
        case (.v4(let x), .v4(let y)): return x < y
        case (.v4, .v6): return true
        case (.v6, .v4): return false
        case (.v6(let h1, let l1), .v6(let h2, let l2)): return (h1, l1) < (h2, l2)
        }
    }
}

/// A route prefix; the address is always masked to the length, so equal networks compare equal.
public struct IPPrefix: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let address: IPAddress
    public let length: UInt8

    /// Nil when the length exceeds the family's width; host bits are cleared.
    public init?(address: IPAddress, length: Int) {
        guard length >= 0, length <= address.bitWidth else { return nil }
        self.address = address.masked(to: length)
        self.length = UInt8(length)
    }

    /// Parses "10.0.0.0/8" or "2001:db8::/32"; a bare address becomes a host prefix.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let addr = IPAddress(String(parts[0])) else { return nil }
        let len = parts.count == 2 ? Int(parts[1]) : addr.bitWidth
        guard let len else { return nil }
        self.init(address: addr, length: len)
    }

    public var afi: AddressFamily.AFI { address.family }
    public var description: String { "\(address)/\(length)" }

    public func contains(_ other: IPAddress) -> Bool {
        other.family == afi && other.masked(to: Int(length)) == address
    }

    public static func < (a: IPPrefix, b: IPPrefix) -> Bool {
        (a.address, a.length) < (b.address, b.length)
    }

    /// RFC 4271 4.3 encoding: one length octet, then the fewest octets that hold the prefix bits.
    public func encode(into w: inout WireWriter) {
        w.u8(length)
        let octets = (Int(length) + 7) / 8
        switch address {
        case .v4(let a):
            for i in 0..<octets { w.u8(UInt8(truncatingIfNeeded: a >> UInt32(24 - 8 * i))) }
        case .v6(let hi, let lo):
            for i in 0..<octets {
                let word = i < 8 ? hi : lo
                w.u8(UInt8(truncatingIfNeeded: word >> UInt64(56 - 8 * (i % 8))))
            }
        }
    }

    /// Decodes one prefix of the given family; nil when the length octet is too large or the
    /// bytes run out (the caller maps that to the NOTIFICATION its field prescribes).
    public static func decode(_ r: inout WireReader, afi: AddressFamily.AFI) -> IPPrefix? {
        guard let len = r.u8() else { return nil }
        let width = afi == .ipv4 ? 32 : 128
        guard Int(len) <= width else { return nil }
        let octets = (Int(len) + 7) / 8
        guard r.remaining >= octets else { return nil }
        // Built in integers, not arrays: a full table is millions of these.
        var hi: UInt64 = 0, lo: UInt64 = 0
        for i in 0..<octets {
            let octet = UInt64(r.u8()!)
            if i < 8 { hi |= octet << UInt64(56 - 8 * i) } else { lo |= octet << UInt64(56 - 8 * (i - 8)) }
        }
        let addr: IPAddress = width == 32 ? .v4(UInt32(truncatingIfNeeded: hi >> 32)) : .v6(hi, lo)
        return IPPrefix(address: addr, length: Int(len))
    }

    /// Decodes a whole field of back-to-back prefixes (NLRI, withdrawn routes, MP NLRI).
    public static func decodeList(_ r: inout WireReader, afi: AddressFamily.AFI) -> [IPPrefix]? {
        var out: [IPPrefix] = []
        // Each prefix takes at least one octet, so this bounds the reservation by the input size.
        out.reserveCapacity(min(r.remaining, 1024))
        while !r.isAtEnd {
            guard let p = decode(&r, afi: afi) else { return nil }
            out.append(p)
        }
        return out
    }
}
