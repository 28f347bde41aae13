/// A prefix packed into integers for the compact tables (no heap storage, one or three words).
protocol PackedPrefix: Hashable, Sendable {
    /// A value no real prefix packs to; marks an empty slot.
    static var empty: Self { get }
    init(_ prefix: IPPrefix)
    var prefix: IPPrefix { get }
    /// A well-mixed 64-bit hash (the table takes its top bits).
    var mixed: UInt64 { get }
}

/// IPv4: the address in the high 32 bits of the low 40, the length in the low 8.
struct PackedV4: PackedPrefix {
    var raw: UInt64

    static let empty = PackedV4(raw: .max)

    init(raw: UInt64) { self.raw = raw }

    init(_ prefix: IPPrefix) {
        guard case .v4(let a) = prefix.address else { preconditionFailure("IPv4 table given \(prefix)") }
        raw = UInt64(a) << 8 | UInt64(prefix.length)
    }

    var prefix: IPPrefix { IPPrefix(address: .v4(UInt32(truncatingIfNeeded: raw >> 8)), length: Int(raw & 0xFF))! }
    var mixed: UInt64 { raw &* 0x9E37_79B9_7F4A_7C15 }
}

/// IPv6: both address words and the length.
struct PackedV6: PackedPrefix {
    var hi: UInt64
    var lo: UInt64
    var length: UInt8

    static let empty = PackedV6(hi: 0, lo: 0, length: .max)

    init(hi: UInt64, lo: UInt64, length: UInt8) {
        self.hi = hi
        self.lo = lo
        self.length = length
    }

    init(_ prefix: IPPrefix) {
        guard case .v6(let h, let l) = prefix.address else { preconditionFailure("IPv6 table given \(prefix)") }
        self.init(hi: h, lo: l, length: prefix.length)
    }

    var prefix: IPPrefix { IPPrefix(address: .v6(hi, lo), length: Int(length))! }
    var mixed: UInt64 {
        var h = hi &* 0x9E37_79B9_7F4A_7C15
        h = (h ^ (h >> 29) ^ lo) &* 0xBF58_476D_1CE4_E5B9
        return (h ^ (h >> 31) ^ UInt64(length)) &* 0x94D0_49BB_1331_11EB
    }
}
