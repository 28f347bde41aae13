import Core

/// A set element as the kernel holds it: a key, and for interval sets whether it is the
/// (exclusive) end of an interval rather than a start. The key (at most 16 bytes: an IPv6
/// address or an interface name) is stored inline, not as an array of its own: a full program
/// holds ~13,000 of them at its peak of memory.
public struct NFTKeyElement: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The longest key held: IPv6 addresses and interface names.
    public static let maxKeyLength = 16
    /// Key bytes 0-7 and 8-15, big-endian, zero-padded: comparing (high, low, count) orders
    /// keys as their bytes compare.
    private var high: UInt64
    private var low: UInt64
    private var count: UInt8
    public var intervalEnd: Bool

    /// `key` must be at most `maxKeyLength` bytes (every set type this table makes).
    public init(key: [UInt8], intervalEnd: Bool = false) {
        precondition(key.count <= Self.maxKeyLength, "set keys are at most 16 bytes, got \(key.count)")
        var h: UInt64 = 0, l: UInt64 = 0
        for (i, b) in key.enumerated() {
            if i < 8 { h |= UInt64(b) << (56 - 8 * UInt64(i)) } else { l |= UInt64(b) << (56 - 8 * UInt64(i - 8)) }
        }
        high = h
        low = l
        count = UInt8(key.count)
        self.intervalEnd = intervalEnd
    }

    /// An interface name's key (`NFTElementCodec.ifnameKey`: 16 bytes, NUL-padded) without
    /// making an array: a set of every workload interface is keyed at each pod coming or going.
    public init(ifname name: String) {
        var h: UInt64 = 0, l: UInt64 = 0
        for (i, b) in name.utf8.prefix(15).enumerated() {
            if i < 8 { h |= UInt64(b) << (56 - 8 * UInt64(i)) } else { l |= UInt64(b) << (56 - 8 * UInt64(i - 8)) }
        }
        high = h
        low = l
        count = UInt8(Self.maxKeyLength)
        intervalEnd = false
    }

    public var key: [UInt8] { withKeyBytes { Array($0) } }

    /// The key's bytes without making an array of them.
    public func withKeyBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var bytes = (high.bigEndian, low.bigEndian)
        return try withUnsafeBytes(of: &bytes) { try body(UnsafeRawBufferPointer(rebasing: $0.prefix(Int(count)))) }
    }

    public static func < (a: NFTKeyElement, b: NFTKeyElement) -> Bool {
        let ak = (a.high, a.low, a.count), bk = (b.high, b.low, b.count)
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

    static func bigEndian(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }

    /// First and last key of an element for a set of `type`; nil when it does not fit the type.
    static func bounds(_ e: NFTSetElement, type: NFTSetType) -> (first: [UInt8], last: [UInt8])? {
        switch (e, type) {
        case (.net(let n), .ipv4Addr) where !n.isIPv6, (.net(let n), .ipv6Addr) where n.isIPv6:
            var last = n.bytes
            for bit in n.prefixLength..<(n.bytes.count * 8) { last[bit / 8] |= 0x80 >> UInt8(bit % 8) }
            return (n.bytes, last)
        case (.ports(let r), .inetService): return (bigEndian(r.lowerBound), bigEndian(r.upperBound))
        case (.proto(let p), .inetProto): return ([p], [p])
        case (.ifname(let s), .ifname): return (ifnameKey(s), ifnameKey(s))
        default: return nil
        }
    }

    /// Big-endian increment; nil on overflow.
    static func successor(_ key: [UInt8]) -> [UInt8]? {
        var k = key
        for i in k.indices.reversed() {
            if k[i] == 0xff { k[i] = 0 } else { k[i] += 1; return k }
        }
        return nil
    }

    /// The kernel elements for a set. Elements of the wrong kind for the set's type are skipped
    /// (the renderer's bug, reported by `invalidElements`); a non-interval set keeps single keys
    /// (the first of each range: the kernel cannot hold a range there).
    public static func keyElements(_ set: NFTSet) -> Set<NFTKeyElement> {
        let ranges = set.elements.compactMap { bounds($0, type: set.type) }
        guard set.interval else { return Set(ranges.map { NFTKeyElement(key: $0.first) }) }
        var result = Set<NFTKeyElement>()
        var merged: [(first: [UInt8], last: [UInt8])] = []
        for r in ranges.sorted(by: { $0.first.lexicographicallyPrecedes($1.first) }) {
            if let top = merged.last, let next = successor(top.last), !next.lexicographicallyPrecedes(r.first) {
                if top.last.lexicographicallyPrecedes(r.last) { merged[merged.count - 1].last = r.last }
                continue
            }
            if let top = merged.last, successor(top.last) == nil { continue }
            merged.append(r)
        }
        for r in merged {
            result.insert(NFTKeyElement(key: r.first))
            if let end = successor(r.last) { result.insert(NFTKeyElement(key: end, intervalEnd: true)) }
        }
        return result
    }

    /// Elements that do not fit their set's type.
    public static func invalidElements(_ set: NFTSet) -> [NFTSetElement] {
        set.elements.filter { bounds($0, type: set.type) == nil }.sorted()
    }
}
