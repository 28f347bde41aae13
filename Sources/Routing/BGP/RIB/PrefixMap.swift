/// A compact map from prefixes of either family to a small value: one `CompactPrefixTable` per
/// family (IPv4 keys one word, IPv6 three).
struct PrefixMap<Value: Sendable>: Sendable {
    private(set) var v4: CompactPrefixTable<PackedV4, Value>
    private(set) var v6: CompactPrefixTable<PackedV6, Value>

    init(placeholder: Value) {
        v4 = CompactPrefixTable(placeholder: placeholder)
        v6 = CompactPrefixTable(placeholder: placeholder)
    }

    var count: Int { v4.count + v6.count }
    var isEmpty: Bool { count == 0 }

    subscript(prefix: IPPrefix) -> Value? {
        get { prefix.afi == .ipv4 ? v4[PackedV4(prefix)] : v6[PackedV6(prefix)] }
        set {
            if prefix.afi == .ipv4 { v4[PackedV4(prefix)] = newValue } else { v6[PackedV6(prefix)] = newValue }
        }
    }

    func forEach(_ body: (IPPrefix, Value) -> Void) {
        v4.forEach { body($0.prefix, $1) }
        v6.forEach { body($0.prefix, $1) }
    }

    /// The prefixes whose value passes `filter` (collected first, so the caller may then mutate).
    func prefixes(where filter: (IPPrefix, Value) -> Bool = { _, _ in true }) -> [IPPrefix] {
        var out: [IPPrefix] = []
        forEach { p, v in if filter(p, v) { out.append(p) } }
        return out
    }
}

/// Prefixes waiting in arrival order, packed (8 bytes an IPv4 entry), for the kernel feed.
struct PrefixQueue: Sendable {
    private var v4: [PackedV4] = []
    private var v6: [PackedV6] = []
    private var head4 = 0
    private var head6 = 0

    var count: Int { v4.count - head4 + v6.count - head6 }
    var isEmpty: Bool { count == 0 }

    mutating func append(_ prefix: IPPrefix) {
        if prefix.afi == .ipv4 { v4.append(PackedV4(prefix)) } else { v6.append(PackedV6(prefix)) }
    }

    mutating func popFirst() -> IPPrefix? {
        if head4 < v4.count {
            defer {
                head4 += 1
                if head4 == v4.count { v4 = []; head4 = 0 } else if head4 >= 4096, head4 * 2 >= v4.count { v4.removeFirst(head4); head4 = 0 }
            }
            return v4[head4].prefix
        }
        if head6 < v6.count {
            defer {
                head6 += 1
                if head6 == v6.count { v6 = []; head6 = 0 } else if head6 >= 4096, head6 * 2 >= v6.count { v6.removeFirst(head6); head6 = 0 }
            }
            return v6[head6].prefix
        }
        return nil
    }
}
