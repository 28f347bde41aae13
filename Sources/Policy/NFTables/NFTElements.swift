import Core

/// A set element as the kernel holds it: a key, and for interval sets whether it is the
/// (exclusive) end of an interval rather than a start. The key (at most 20 bytes: an IPv6
/// address and a port) is stored inline, not as an array of its own: a full program holds
/// ~13,000 of them at its peak of memory.
public struct NFTKeyElement: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The longest key held: an IPv6 address and a port (`ipv6AddrService`).
    public static let maxKeyLength = 20
    /// Key bytes 0-7, 8-15 and 16-19, big-endian, zero-padded: comparing (high, low, tail,
    /// count) orders keys as their bytes compare. (The tail fits the padding the stride had.)
    private var high: UInt64
    private var low: UInt64
    private var tail: UInt32
    private var count: UInt8
    public var intervalEnd: Bool

    /// `key` must be at most `maxKeyLength` bytes (every set type this table makes).
    public init(key: [UInt8], intervalEnd: Bool = false) {
        precondition(key.count <= Self.maxKeyLength, "set keys are at most 20 bytes, got \(key.count)")
        var h: UInt64 = 0, l: UInt64 = 0, t: UInt32 = 0
        for (i, b) in key.enumerated() {
            if i < 8 { h |= UInt64(b) << (56 - 8 * UInt64(i)) } else if i < 16 { l |= UInt64(b) << (56 - 8 * UInt64(i - 8)) } else { t |= UInt32(b) << (24 - 8 * UInt32(i - 16)) }
        }
        high = h
        low = l
        tail = t
        count = UInt8(key.count)
        self.intervalEnd = intervalEnd
    }

    /// A key of `count` bytes (at most 16) held left-aligned in 128 bits (byte 0 the most significant).
    init(wide: UInt128, count: Int, intervalEnd: Bool = false) {
        high = UInt64(truncatingIfNeeded: wide >> 64)
        low = UInt64(truncatingIfNeeded: wide)
        tail = 0
        self.count = UInt8(count)
        self.intervalEnd = intervalEnd
    }

    public var key: [UInt8] { withKeyBytes { Array($0) } }

    /// The key's bytes without making an array of them.
    public func withKeyBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var bytes = (high.bigEndian, low.bigEndian, tail.bigEndian)
        return try withUnsafeBytes(of: &bytes) { try body(UnsafeRawBufferPointer(rebasing: $0.prefix(Int(count)))) }
    }

    public static func < (a: NFTKeyElement, b: NFTKeyElement) -> Bool {
        let ak = (a.high, a.low, a.tail, a.count), bk = (b.high, b.low, b.tail, b.count)
        return ak < bk || (ak == bk && !a.intervalEnd && b.intervalEnd)
    }

    public var description: String {
        (intervalEnd ? "end:" : "") + key.map { String($0, radix: 16) }.joined(separator: ".")
    }
}

/// Encoding of model set elements into kernel keys. Interval sets become start/end pairs of
/// merged intervals (overlapping or adjacent members merge, as the kernel rejects overlaps); the
/// end key is one past the last member and is omitted when the interval reaches the top.
public enum NFTElementCodec {
    public static func ifnameKey(_ name: String) -> [UInt8] {
        var bytes = Array(name.utf8.prefix(15))
        bytes += [UInt8](repeating: 0, count: 16 - bytes.count)
        return bytes
    }

    public static func ifname(fromKey key: [UInt8]) -> String {
        String(decoding: key.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// First and last key of an element for a set of `type`, each left-aligned in 128 bits
    /// (compared as numbers they compare as their bytes do); nil when it does not fit the type.
    /// Numbers, not byte arrays: a set of 1,000 addresses is keyed at each change of it.
    static func bounds(_ e: NFTSetElement, type: NFTSetType) -> (first: UInt128, last: UInt128)? {
        switch (e, type) {
        case (.net(let n), .ipv4Addr) where !n.isIPv6, (.net(let n), .ipv6Addr) where n.isIPv6:
            var first: UInt128 = 0
            for (i, b) in n.bytes.enumerated() { first |= UInt128(b) << (120 - 8 * i) }
            let bits = n.bytes.count * 8
            let host = n.prefixLength >= bits ? 0 : (UInt128.max >> n.prefixLength) & ~(bits == 128 ? 0 : UInt128.max >> bits)
            return (first, first | host)
        case (.ports(let r), .inetService): return (UInt128(r.lowerBound) << 112, UInt128(r.upperBound) << 112)
        case (.proto(let p), .inetProto): return (UInt128(p) << 120, UInt128(p) << 120)
        case (.ifname(let s), .ifname):
            var key: UInt128 = 0
            for (i, b) in s.utf8.prefix(15).enumerated() { key |= UInt128(b) << (120 - 8 * i) }
            return (key, key)
        default: return nil
        }
    }

    /// The key of an element in a hash set of `type` (for a range, its first value: the kernel
    /// cannot hold a range there); nil when it does not fit the type. An address and a port are
    /// the address's bytes, then the port's two, then two zero bytes (the rest of its register).
    static func key(_ e: NFTSetElement, type: NFTSetType) -> NFTKeyElement? {
        switch (e, type) {
        case (.addrPort(let n, let port), .ipv4AddrService) where !n.isIPv6 && n.isSingleAddress,
             (.addrPort(let n, let port), .ipv6AddrService) where n.isIPv6 && n.isSingleAddress:
            return NFTKeyElement(key: n.bytes + [UInt8(port >> 8), UInt8(port & 0xff), 0, 0])
        case (.addrPort, _), (_, .ipv4AddrService), (_, .ipv6AddrService):
            return nil
        default:
            return bounds(e, type: type).map { NFTKeyElement(wide: $0.first, count: type.keyLength) }
        }
    }

    /// The next key of `width` bytes (big-endian increment); nil on overflow.
    static func successor(_ key: UInt128, width: Int) -> UInt128? {
        let (next, overflow) = key.addingReportingOverflow(1 << (128 - 8 * width))
        return overflow ? nil : next
    }

    /// The kernel elements for a set. Elements of the wrong kind for the set's type are skipped
    /// (the renderer's bug, reported by `invalidElements`); a non-interval set keeps single keys
    /// (the first of each range: the kernel cannot hold a range there).
    public static func keyElements(_ set: NFTSet) -> Set<NFTKeyElement> {
        let width = set.type.keyLength
        guard set.interval else { return Set(set.elements.compactMap { key($0, type: set.type) }) }
        let ranges = set.elements.compactMap { bounds($0, type: set.type) }
        var merged: [(first: UInt128, last: UInt128)] = []
        merged.reserveCapacity(ranges.count)
        for r in ranges.sorted(by: { $0.first < $1.first }) {
            if let top = merged.last {
                // Overlapping or adjacent: one interval; nothing follows one reaching the top.
                guard let next = successor(top.last, width: width) else { continue }
                if next >= r.first {
                    if top.last < r.last { merged[merged.count - 1].last = r.last }
                    continue
                }
            }
            merged.append(r)
        }
        var result = Set<NFTKeyElement>(minimumCapacity: 2 * merged.count)
        for r in merged {
            result.insert(NFTKeyElement(wide: r.first, count: width))
            if let end = successor(r.last, width: width) { result.insert(NFTKeyElement(wide: end, count: width, intervalEnd: true)) }
        }
        return result
    }

    /// Elements that do not fit their set's type.
    public static func invalidElements(_ set: NFTSet) -> [NFTSetElement] {
        set.elements.filter { set.interval ? bounds($0, type: set.type) == nil : key($0, type: set.type) == nil }.sorted()
    }
}
