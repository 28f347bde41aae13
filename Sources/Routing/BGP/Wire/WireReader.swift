// Bounds-checked big-endian reading over a byte array. Every read returns nil instead of trapping,
// so hostile lengths can never index out of range; sub-readers share storage (no copies).
public struct WireReader: Sendable {
    public let bytes: [UInt8]
    public private(set) var index: Int
    public let end: Int

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.index = 0
        self.end = bytes.count
    }

    init(bytes: [UInt8], index: Int, end: Int) {
        self.bytes = bytes
        self.index = index
        self.end = end
    }

    public var remaining: Int { end - index }
    public var isAtEnd: Bool { index >= end }

    public mutating func u8() -> UInt8? {
        guard index < end else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    public mutating func u16() -> UInt16? {
        guard remaining >= 2 else { return nil }
        defer { index += 2 }
        return UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1])
    }

    public mutating func u32() -> UInt32? {
        guard remaining >= 4 else { return nil }
        var value: UInt32 = 0
        for i in 0..<4 { value = value << 8 | UInt32(bytes[index + i]) }
        index += 4
        return value
    }

    public mutating func u64() -> UInt64? {
        guard remaining >= 8 else { return nil }
        var value: UInt64 = 0
        for i in 0..<8 { value = value << 8 | UInt64(bytes[index + i]) }
        index += 8
        return value
    }

    /// Copies `count` bytes out; nil when fewer remain (the count is checked before allocating).
    public mutating func take(_ count: Int) -> [UInt8]? {
        guard count >= 0, remaining >= count else { return nil }
        defer { index += count }
        return Array(bytes[index..<index + count])
    }

    /// A reader over the next `count` bytes, advancing past them.
    public mutating func sub(_ count: Int) -> WireReader? {
        guard count >= 0, remaining >= count else { return nil }
        defer { index += count }
        return WireReader(bytes: bytes, index: index, end: index + count)
    }

    /// Everything not yet read, as a copy.
    public mutating func rest() -> [UInt8] {
        take(remaining) ?? []
    }

    /// Bytes between two absolute offsets of the underlying array (for NOTIFICATION data).
    func slice(from start: Int, to stop: Int) -> [UInt8] {
        guard start >= 0, start <= stop, stop <= bytes.count else { return [] }
        return Array(bytes[start..<stop])
    }
}

/// Big-endian appending writer.
public struct WireWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }

    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func u16(_ v: UInt16) { bytes.append(UInt8(v >> 8)); bytes.append(UInt8(v & 0xFF)) }
    public mutating func u32(_ v: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8((v >> UInt32(shift)) & 0xFF)) }
    }
    public mutating func u64(_ v: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8((v >> UInt64(shift)) & 0xFF)) }
    }
    public mutating func append<S: Sequence>(_ s: S) where S.Element == UInt8 { bytes.append(contentsOf: s) }

    /// Overwrites a previously written big-endian u16 (for length fields known only afterwards).
    public mutating func patchU16(at offset: Int, _ v: UInt16) {
        guard offset >= 0, offset + 1 < bytes.count else { return }
        bytes[offset] = UInt8(v >> 8)
        bytes[offset + 1] = UInt8(v & 0xFF)
    }
}
