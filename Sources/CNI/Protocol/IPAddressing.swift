#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One IPv4 or IPv6 address as CNI results carry it (`gateway`, `gw`), parsed and printed
/// with the C library's inet_pton / inet_ntop so IPv6 text comes out in canonical form.
public struct CNIIPAddress: Sendable, Hashable, CustomStringConvertible {
    public enum Family: Int, Sendable, Hashable { case v4 = 4, v6 = 6 }

    /// Network-order bytes: 4 for IPv4, 16 for IPv6.
    public let bytes: [UInt8]

    public var family: Family { bytes.count == 4 ? .v4 : .v6 }

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    public init?(_ text: String) {
        // An embedded NUL would end the C string early and let "1.2.3.4\0junk" through.
        guard !text.utf8.contains(0) else { return nil }
        if !text.contains(":") {
            var v4 = in_addr()
            guard inet_pton(AF_INET, text, &v4) == 1 else { return nil }
            self.bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else {
            var v6 = in6_addr()
            guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
            self.bytes = withUnsafeBytes(of: &v6) { Array($0) }
        }
    }

    public var description: String {
        var out = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let af = family == .v4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { raw in
            inet_ntop(af, raw.baseAddress, &out, socklen_t(out.count)) != nil
        }
        guard ok else { return "" }
        return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// An address with its prefix length, `10.0.0.5/24`: the host bits are kept, as CNI
/// results mean "this address on a network of this size".
public struct CNIIPNetwork: Sendable, Hashable, CustomStringConvertible {
    public let address: CNIIPAddress
    public let prefixLength: Int

    public var family: CNIIPAddress.Family { address.family }

    public init?(address: CNIIPAddress, prefixLength: Int) {
        guard prefixLength >= 0, prefixLength <= address.bytes.count * 8 else { return nil }
        self.address = address
        self.prefixLength = prefixLength
    }

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let ip = CNIIPAddress(String(parts[0])),
              parts[1].allSatisfy(\.isASCII), parts[1].allSatisfy(\.isNumber), parts[1].count <= 3,
              let bits = Int(parts[1])
        else { return nil }
        self.init(address: ip, prefixLength: bits)
    }

    /// The single-address network for `address` (/32 or /128), as a pod is given its IP.
    public static func host(_ address: CNIIPAddress) -> CNIIPNetwork {
        CNIIPNetwork(address: address, prefixLength: address.bytes.count * 8)!
    }

    public var description: String { "\(address)/\(prefixLength)" }
}
