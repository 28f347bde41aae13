import Core

/// The elements that came into and left one set since the last apply, as the caller edited the
/// set in place (a pod's address into the selector sets it matches, its interface into the sets
/// of the places it goes through). With it the differ keys only these elements instead of the
/// whole set: a pod's update touches ~30 sets of up to 1,000 elements each, which keyed whole
/// and compared cost 1.6-5.7 ms of its diff.
public typealias NFTSetDelta = MemberDelta<NFTSetElement>

extension NFTDiff {
    /// The keys to delete and add for `set` given the elements that changed, each element one
    /// key: hash sets of interface names and of single addresses. Nil when the delta cannot say
    /// (interval sets, whose changes the kernel wants as whole intervals: `intervalDelta`; an
    /// element that is not one key): the caller compares the set whole.
    static func keyDelta(_ set: NFTSet, _ delta: NFTSetDelta, programmed: Set<NFTKeyElement>) -> (gone: [NFTKeyElement], added: [NFTKeyElement])? {
        guard !set.interval else { return nil }
        let key = { (e: NFTSetElement) in singleKey(e, type: set.type) }
        var gone: [NFTKeyElement] = [], added: [NFTKeyElement] = []
        for e in delta.added {
            guard let k = key(e) else { return nil }
            if !programmed.contains(k) { added.append(k) }
        }
        for e in delta.removed {
            guard let k = key(e) else { return nil }
            if programmed.contains(k) { gone.append(k) }
        }
        return (gone.sorted(), added.sorted())
    }

    /// A verdict map's elements to delete and add, looking only at the interfaces in `delta`
    /// (each an `.ifname` element naming a key whose element came, went or changed); nil when
    /// the delta names anything else.
    static func mapDelta(_ map: NFTVerdictMap, _ delta: NFTSetDelta, programmed: [String: NFTVerdict])
        -> (gone: [String], added: [String: NFTVerdict])? {
        var gone: [String] = [], added: [String: NFTVerdict] = [:]
        for element in delta.added.union(delta.removed) {
            guard case .ifname(let key) = element else { return nil }
            let want = map.elements[key], have = programmed[key]
            if want == have { continue }
            if have != nil { gone.append(key) }
            if let want { added[key] = want }
        }
        return (gone.sorted(), added)
    }

    /// The one key of a hash set's element: an interface name (that fits the key: a longer one
    /// would be cut and could collide), a single address of the set's family, or such an
    /// address and a port; else nil.
    static func singleKey(_ e: NFTSetElement, type: NFTSetType) -> NFTKeyElement? {
        switch (e, type) {
        case (.ifname(let name), .ifname) where name.utf8.count < NFTSetType.ifname.keyLength: break
        case (.net(let n), .ipv4Addr) where n.isSingleAddress && !n.isIPv6: break
        case (.net(let n), .ipv6Addr) where n.isSingleAddress && n.isIPv6: break
        case (.addrPort, .ipv4AddrService), (.addrPort, .ipv6AddrService): break
        default: return nil
        }
        return NFTElementCodec.key(e, type: type)
    }
}
