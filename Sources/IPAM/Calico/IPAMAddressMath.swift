import Core

/// Address arithmetic for pools and blocks: an address as a 128-bit integer (IPv4 in the low
/// 32 bits), so that ordinals, block starts and the n-th block of a pool are plain sums.
public enum IPAMAddressMath {
    /// The integer value of a network's first address.
    public static func value(of net: IPNet) -> UInt128 {
        net.bytes.reduce(UInt128(0)) { ($0 << 8) | UInt128($1) }
    }

    /// The bytes (4 or 16) of an integer address.
    public static func bytes(_ value: UInt128, ipv6: Bool) -> [UInt8] {
        let count = ipv6 ? 16 : 4
        return (0..<count).map { i in UInt8(truncatingIfNeeded: value >> UInt128((count - 1 - i) * 8)) }
    }

    /// Number of addresses in `net` (2^(bits - prefix)); saturates at UInt128.max for ::/0.
    public static func size(of net: IPNet) -> UInt128 {
        let hostBits = net.bytes.count * 8 - net.prefixLength
        return hostBits >= 128 ? UInt128.max : UInt128(1) << UInt128(hostBits)
    }

    /// The address `ordinal` places after the start of `block`, as a single-address IPNet.
    public static func address(in block: IPNet, ordinal: Int) -> IPNet {
        let v = value(of: block) + UInt128(ordinal)
        return IPNet(bytes: bytes(v, ipv6: block.isIPv6), prefixLength: block.bytes.count * 8)!
    }

    /// Where `address` lies in `block`, or nil when it lies outside.
    public static func ordinal(of address: IPNet, in block: IPNet) -> Int? {
        guard block.contains(address) else { return nil }
        return Int(value(of: address) - value(of: block))
    }

    /// The `index`-th block of prefix `blockSize` inside `pool`, or nil past the pool's end.
    public static func block(_ index: UInt128, ofSize blockSize: Int, in pool: IPNet) -> IPNet? {
        guard blockSize >= pool.prefixLength, blockSize <= pool.bytes.count * 8 else { return nil }
        let perBlock = UInt128(1) << UInt128(pool.bytes.count * 8 - blockSize)
        let count = blockCount(ofSize: blockSize, in: pool)
        guard index < count else { return nil }
        let start = value(of: pool) + index * perBlock
        return IPNet(bytes: bytes(start, ipv6: pool.isIPv6), prefixLength: blockSize)
    }

    /// How many blocks of prefix `blockSize` fit in `pool` (saturating for huge IPv6 pools).
    public static func blockCount(ofSize blockSize: Int, in pool: IPNet) -> UInt128 {
        let bits = blockSize - pool.prefixLength
        guard bits >= 0 else { return 0 }
        return bits >= 127 ? UInt128.max : UInt128(1) << UInt128(bits)
    }

    /// The block of prefix `blockSize` that holds `address`.
    public static func enclosingBlock(of address: IPNet, blockSize: Int) -> IPNet {
        IPNet(bytes: address.bytes, prefixLength: blockSize)!
    }
}
