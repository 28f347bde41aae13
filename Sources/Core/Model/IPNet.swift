#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 network (`10.0.0.0/8`, `fd00::/64`), or one address as a full-length prefix.
/// Host bits are cleared on parse, as Calico normalises `nets` and Kubernetes ipBlocks.
public struct IPNet: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6, host bits zero.
    public let bytes: [UInt8]
    public let prefixLength: Int

    public var isIPv6: Bool { bytes.count == 16 }
    public var ipVersion: Int { isIPv6 ? 6 : 4 }
    public var isSingleAddress: Bool { prefixLength == bytes.count * 8 }

    public init?(bytes: [UInt8], prefixLength: Int) {
        guard bytes.count == 4 || bytes.count == 16, (0...(bytes.count * 8)).contains(prefixLength) else { return nil }
        self.bytes = Self.masked(bytes, prefixLength)
        self.prefixLength = prefixLength
    }

    /// Parses `addr` or `addr/len`; nil when malformed.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let addr = Self.parseAddress(String(parts[0])) else { return nil }
        var length = addr.count * 8
        if parts.count == 2 {
            guard let n = Int(parts[1]), parts[1].allSatisfy(\.isASCII) else { return nil }
            length = n
        }
        self.init(bytes: addr, prefixLength: length)
    }

    /// Whether `other` lies entirely inside this network.
    public func contains(_ other: IPNet) -> Bool {
        guard other.bytes.count == bytes.count, other.prefixLength >= prefixLength else { return false }
        return Self.masked(other.bytes, prefixLength) == bytes
    }

    /// The address alone (`10.0.0.1`), without the prefix length.
    public var addressText: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = isIPv6 ? AF_INET6 : AF_INET
        let ok = bytes.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) }
        guard ok != nil else { return "" }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var description: String { "\(addressText)/\(prefixLength)" }

    /// IPv4 first, then by address bytes, then shorter prefix first.
    public static func < (lhs: IPNet, rhs: IPNet) -> Bool {
        if lhs.bytes.count != rhs.bytes.count { return lhs.bytes.count < rhs.bytes.count }
        if lhs.bytes != rhs.bytes { return lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }
        return lhs.prefixLength < rhs.prefixLength
    }

    private static func parseAddress(_ text: String) -> [UInt8]? {
        guard !text.isEmpty, text.utf8.count <= Int(INET6_ADDRSTRLEN) else { return nil }
        if text.contains(":") {
            var out = [UInt8](repeating: 0, count: 16)
            return inet_pton(AF_INET6, text, &out) == 1 ? out : nil
        }
        var out = [UInt8](repeating: 0, count: 4)
        return inet_pton(AF_INET, text, &out) == 1 ? out : nil
    }

    private static func masked(_ bytes: [UInt8], _ length: Int) -> [UInt8] {
        var out = bytes
        for i in out.indices {
            let bitsHere = max(0, min(8, length - i * 8))
            out[i] &= bitsHere == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bitsHere))
        }
        return out
    }
}

extension IPNet: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        guard let net = IPNet(parsing: text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "bad IP network '\(text)'")
        }
        self = net
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
