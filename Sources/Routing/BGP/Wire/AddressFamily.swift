/// An AFI/SAFI pair (RFC 4760). Unknown values are kept so capabilities round-trip.
public struct AddressFamily: Hashable, Sendable, CustomStringConvertible {
    public struct AFI: RawRepresentable, Hashable, Sendable {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        public static let ipv4 = AFI(rawValue: 1)
        public static let ipv6 = AFI(rawValue: 2)
    }

    public struct SAFI: RawRepresentable, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let unicast = SAFI(rawValue: 1)
        public static let multicast = SAFI(rawValue: 2)
    }

    public var afi: AFI
    public var safi: SAFI

    public init(afi: AFI, safi: SAFI) {
        self.afi = afi
        self.safi = safi
    }

    public static let ipv4Unicast = AddressFamily(afi: .ipv4, safi: .unicast)
    public static let ipv6Unicast = AddressFamily(afi: .ipv6, safi: .unicast)

    /// True for the families whose prefixes this codec understands.
    public var isSupported: Bool { (afi == .ipv4 || afi == .ipv6) && safi == .unicast }

    public var description: String {
        let a = afi == .ipv4 ? "ipv4" : afi == .ipv6 ? "ipv6" : "afi\(afi.rawValue)"
        let s = safi == .unicast ? "unicast" : "safi\(safi.rawValue)"
        return "\(a)-\(s)"
    }
}
