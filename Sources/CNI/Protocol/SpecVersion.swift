/// The CNI specification versions this plugin speaks. Older ones (0.1.0, 0.2.0) predate the
/// rich result type and are refused with code 1, as the reference library does for
/// versions a plugin does not list.
public enum SpecVersion: String, Sendable, Hashable, CaseIterable, Comparable {
    case v0_3_0 = "0.3.0"
    case v0_3_1 = "0.3.1"
    case v0_4_0 = "0.4.0"
    case v1_0_0 = "1.0.0"
    case v1_1_0 = "1.1.0"

    /// The newest version; used for VERSION output and for errors raised before a config
    /// (and so its cniVersion) is known.
    public static let current: SpecVersion = .v1_1_0

    public static let supported: [SpecVersion] = allCases

    public static func < (a: SpecVersion, b: SpecVersion) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// Results before 1.0.0 carry `"version": "4"|"6"` on every IP.
    public var ipsCarryVersion: Bool { self < .v1_0_0 }
    /// CHECK and prevResult on DEL arrived in 0.4.0.
    public var allowsCheck: Bool { self >= .v0_4_0 }
    /// STATUS and GC arrived in 1.1.0; so did the extra route and interface fields.
    public var allowsStatusAndGC: Bool { self >= .v1_1_0 }
    public var hasExtendedResultFields: Bool { self >= .v1_1_0 }

    /// Human-readable list for error messages: `0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0`.
    public static var supportedList: String { supported.map(\.rawValue).joined(separator: ", ") }
}
