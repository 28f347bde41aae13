import Core

/// One rule: matches (all must hold), then statements, then an optional verdict. Its identity is
/// a hash of its canonical text, stored in the kernel as the rule's comment, so a restarted felix
/// recognises rules it programmed and leaves unchanged rules (and their handles) alone.
public struct NFTRule: Sendable, Hashable, CustomStringConvertible {
    public var matches: [NFTMatch]
    public var statements: [NFTStatement]
    public var verdict: NFTVerdict?
    /// Free text kept with the rule (after the identity in the kernel comment); part of identity.
    public var comment: String?

    public init(_ matches: [NFTMatch] = [], statements: [NFTStatement] = [], verdict: NFTVerdict? = nil,
                comment: String? = nil) {
        self.matches = matches
        self.statements = statements
        self.verdict = verdict
        self.comment = comment
    }

    /// `nft` syntax without the comment.
    public var body: String { NFTText.rule(self) }

    public var description: String { body }

    /// 16 hex digits of FNV-1a-64 over the canonical text and comment.
    public var identity: String { NFTRuleIdentity.hash(body + "\u{0}" + (comment ?? "")) }

    /// What goes in the kernel's comment: the identity, then the free comment; at most 127 bytes.
    public var storedComment: String { NFTRuleIdentity.stored(identity: identity, comment: comment) }
}

public enum NFTRuleIdentity {
    public static func hash(_ text: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    static func stored(identity: String, comment: String?) -> String {
        guard let comment, !comment.isEmpty else { return identity }
        var text = identity + " " + comment
        while text.utf8.count > 127 { text.removeLast() }
        return text
    }

    /// The identity in a stored comment; nil when it is not one of ours.
    public static func parse(stored: String) -> String? {
        let id = stored.prefix(16)
        guard id.count == 16, id.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
        guard stored.count == 16 || stored.dropFirst(16).first == " " else { return nil }
        return String(id)
    }
}

public enum NFTDirection: String, Sendable, Hashable { case source = "saddr", destination = "daddr" }
public enum NFTPortDirection: String, Sendable, Hashable { case source = "sport", destination = "dport" }

/// A transport protocol with ports.
public enum NFTPortProtocol: String, Sendable, Hashable, CaseIterable {
    case tcp, udp, sctp
    public var number: UInt8 {
        switch self {
        case .tcp: return 6
        case .udp: return 17
        case .sctp: return 132
        }
    }
}

/// Where a value is compared: equal to one value, in a literal list, in a named set.
public enum NFTPortMatch: Sendable, Hashable {
    case eq(UInt16)
    case range(ClosedRange<UInt16>)
    /// Anonymous set of ports/ranges; order is canonicalised.
    case anyOf([ClosedRange<UInt16>])
    case set(String)
}

public enum NFTCtState: String, Sendable, Hashable, CaseIterable, Comparable {
    case invalid, established, related, new, untracked

    /// NF_CT_STATE_* bit.
    public var bit: UInt32 {
        switch self {
        case .invalid: return 1
        case .established: return 2
        case .related: return 4
        case .new: return 8
        case .untracked: return 64
        }
    }

    public static func < (a: NFTCtState, b: NFTCtState) -> Bool { a.bit < b.bit }
}

/// A match expression. `negated` inverts the test.
public enum NFTMatch: Sendable, Hashable {
    /// `iifname`/`oifname` equal to a name.
    case iifname(String, negated: Bool = false)
    case oifname(String, negated: Bool = false)
    /// `iifname`/`oifname` in a named set of type ifname.
    case iifnameInSet(String, negated: Bool = false)
    case oifnameInSet(String, negated: Bool = false)
    /// `ip(6) saddr/daddr` equal to (inside) a CIDR; the family follows the address.
    case addr(NFTDirection, IPNet, negated: Bool = false)
    /// `ip saddr @set` (ipv4 sets) or `ip6 saddr @set` (ipv6 sets).
    case addrInSet(NFTDirection, ipv6: Bool, set: String, negated: Bool = false)
    /// `ip daddr . tcp dport @set`: the address and the port of one side together in a set of
    /// addresses and ports (a named port, which resolves per endpoint).
    case addrPortInSet(NFTDirection, ipv6: Bool, NFTPortProtocol, set: String, negated: Bool = false)
    /// `meta nfproto ipv4|ipv6`.
    case ipVersion(Int)
    /// `meta l4proto N` / `meta l4proto { ... }`.
    case l4proto(UInt8, negated: Bool = false)
    case l4protoIn([UInt8], negated: Bool = false)
    /// `tcp dport 80`, `udp sport 1000-2000`, `tcp dport @ports`, `sctp dport { 1, 2-3 }`.
    case port(NFTPortProtocol, NFTPortDirection, NFTPortMatch, negated: Bool = false)
    /// `icmp type N [code M]` (IPv4) or `icmpv6 type N [code M]`.
    case icmp(ipv6: Bool, type: UInt8?, code: UInt8?, negated: Bool = false)
    /// `ct state { ... }`.
    case ctState(Set<NFTCtState>, negated: Bool = false)
    /// `meta mark & mask == value` (`!=` when negated).
    case mark(value: UInt32, mask: UInt32, negated: Bool = false)
    /// `fib saddr . iif oif missing`: the routing table has no route back to the source through
    /// the interface the packet came in on (a strict reverse-path check); `exists` when negated.
    case sourceRouteMissing(negated: Bool = false)
}

/// A statement that does something and continues.
public enum NFTStatement: Sendable, Hashable {
    case counter
    /// `meta mark set value`.
    case setMark(UInt32)
    /// `meta mark set meta mark | bits`.
    case orMark(UInt32)
    /// `meta mark set meta mark & mask`: clears the bits not in mask.
    case andMark(UInt32)
    case log(prefix: String)
}

/// How evaluation ends (or continues: `jump` returns here).
public enum NFTVerdict: Sendable, Hashable {
    case accept, drop, `return`
    case jump(String)
    case goto(String)
    /// `iifname vmap @map` / `oifname vmap @map`.
    case vmapIifname(String)
    case vmapOifname(String)

    /// The chain this verdict names, if any.
    public var target: String? {
        switch self {
        case .jump(let c), .goto(let c): return c
        default: return nil
        }
    }
}
