/// Members added to and removed from one set over some changes: a member removed and added
/// again (or the reverse) is in neither. The calculator's journal keeps one per IP set
/// (addresses, address-port members), the renderer one per nftables set it edits (`NFTSetDelta`).
public struct MemberDelta<Member: Hashable & Sendable>: Sendable, Equatable {
    public private(set) var added: Set<Member> = []
    public private(set) var removed: Set<Member> = []

    public init() {}

    public mutating func insert(_ member: Member) { if removed.remove(member) == nil { added.insert(member) } }
    public mutating func remove(_ member: Member) { if added.remove(member) == nil { removed.insert(member) } }
    /// This delta followed by `later`.
    public mutating func append(_ later: MemberDelta) {
        for member in later.added { insert(member) }
        for member in later.removed { remove(member) }
    }
}
