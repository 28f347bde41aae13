import CCalicoSystem
import Core

/// An anonymous set a rule needs (`tcp dport { 80, 443 }`): created in the same batch just
/// before the rule, found by the rule through its batch-local id, and freed with the rule.
struct NFTAnonymousSet {
    var id: UInt32
    var type: NFTSetType
    var interval: Bool
    var keys: [NFTKeyElement]
    var name: String { "__set%d" }
}

/// Turns an `NFTRule` into nf_tables expressions on a libnftnl rule. Everything is loaded into
/// register 1 and compared there, as `nft` does; verdicts go to the verdict register.
struct NFTRuleEncoder {
    private let rule: OpaquePointer
    private(set) var anonymousSets: [NFTAnonymousSet] = []
    private var nextSetID: UInt32
    /// The IP version this rule has already tested (`meta nfproto`): an address match after it
    /// needs no test of its own, as nft encodes one dependency per rule.
    private var testedVersion: Int?

    private static let reg1: UInt32 = 1
    private static let regVerdict: UInt32 = 0

    init(rule: OpaquePointer, firstSetID: UInt32) {
        self.rule = rule
        self.nextSetID = firstSetID
    }

    var usedSetIDs: UInt32 { nextSetID }

    mutating func encode(_ r: NFTRule) {
        testedVersion = nil
        r.matches.forEach { match($0) }
        r.statements.forEach { statement($0) }
        if let v = r.verdict { verdict(v) }
    }

    // MARK: expressions

    private func expr(_ name: String, _ configure: (OpaquePointer) -> Void) {
        guard let e = nftnl_expr_alloc(name) else { return }
        configure(e)
        nftnl_rule_add_expr(rule, e)
    }

    private static func set(_ e: OpaquePointer, _ attr: Int, _ v: UInt32) { nftnl_expr_set_u32(e, UInt16(attr), v) }
    private static func set(_ e: OpaquePointer, _ attr: Int, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { _ = nftnl_expr_set(e, UInt16(attr), $0.baseAddress, UInt32($0.count)) }
    }

    private func metaLoad(_ key: UInt32) {
        expr("meta") { e in
            Self.set(e, NFTNL_EXPR_META_KEY, key)
            Self.set(e, NFTNL_EXPR_META_DREG, Self.reg1)
        }
    }

    private func payload(_ base: UInt32, offset: UInt32, length: UInt32, into register: UInt32 = reg1) {
        expr("payload") { e in
            Self.set(e, NFTNL_EXPR_PAYLOAD_BASE, base)
            Self.set(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset)
            Self.set(e, NFTNL_EXPR_PAYLOAD_LEN, length)
            Self.set(e, NFTNL_EXPR_PAYLOAD_DREG, register)
        }
    }

    private func cmp(_ op: nft_cmp_ops, _ data: [UInt8]) {
        expr("cmp") { e in
            Self.set(e, NFTNL_EXPR_CMP_SREG, Self.reg1)
            Self.set(e, NFTNL_EXPR_CMP_OP, op.rawValue)
            Self.set(e, NFTNL_EXPR_CMP_DATA, data)
        }
    }

    private func cmpEq(_ data: [UInt8], negated: Bool = false) { cmp(negated ? NFT_CMP_NEQ : NFT_CMP_EQ, data) }

    private func bitwise(mask: [UInt8], xor: [UInt8]) {
        expr("bitwise") { e in
            Self.set(e, NFTNL_EXPR_BITWISE_SREG, Self.reg1)
            Self.set(e, NFTNL_EXPR_BITWISE_DREG, Self.reg1)
            Self.set(e, NFTNL_EXPR_BITWISE_LEN, UInt32(mask.count))
            Self.set(e, NFTNL_EXPR_BITWISE_MASK, mask)
            Self.set(e, NFTNL_EXPR_BITWISE_XOR, xor)
        }
    }

    private func lookup(set: String, id: UInt32?, verdictMap: Bool = false, negated: Bool = false) {
        expr("lookup") { e in
            Self.set(e, NFTNL_EXPR_LOOKUP_SREG, Self.reg1)
            _ = nftnl_expr_set_str(e, UInt16(NFTNL_EXPR_LOOKUP_SET), set)
            if let id { Self.set(e, NFTNL_EXPR_LOOKUP_SET_ID, id) }
            if verdictMap { Self.set(e, NFTNL_EXPR_LOOKUP_DREG, Self.regVerdict) }
            if negated { Self.set(e, NFTNL_EXPR_LOOKUP_FLAGS, UInt32(NFT_LOOKUP_F_INV.rawValue)) }
        }
    }

    private mutating func anonymous(_ type: NFTSetType, _ elements: Set<NFTSetElement>, negated: Bool) {
        let interval = elements.contains { if case .ports(let r) = $0 { return r.count > 1 } else { return false } }
        let keys = NFTElementCodec.keyElements(NFTSet(name: "", type: type, interval: interval, elements: elements))
        let id = nextSetID
        nextSetID += 1
        anonymousSets.append(NFTAnonymousSet(id: id, type: type, interval: interval, keys: keys.sorted()))
        lookup(set: "__set%d", id: id, negated: negated)
    }

    static func hostOrder(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v) { Array($0) } }
    static func bigEndian(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }

    // MARK: matches

    private mutating func match(_ m: NFTMatch) {
        switch m {
        case .iifname(let n, let neg), .oifname(let n, let neg):
            metaLoad(isInput(m) ? NFT_META_IIFNAME.rawValue : NFT_META_OIFNAME.rawValue)
            // nft's wildcard "cali*": compare the prefix's bytes only (no terminating NUL).
            cmpEq(n.hasSuffix("*") ? Array(n.dropLast().utf8) : NFTElementCodec.ifnameKey(n), negated: neg)
        case .iifnameInSet(let s, let neg), .oifnameInSet(let s, let neg):
            metaLoad(isInput(m) ? NFT_META_IIFNAME.rawValue : NFT_META_OIFNAME.rawValue)
            lookup(set: s, id: nil, negated: neg)
        case .addr(let dir, let net, let neg):
            loadAddress(dir, ipv6: net.isIPv6)
            if !net.isSingleAddress {
                var mask = [UInt8](repeating: 0, count: net.bytes.count)
                for bit in 0..<net.prefixLength { mask[bit / 8] |= 0x80 >> UInt8(bit % 8) }
                bitwise(mask: mask, xor: [UInt8](repeating: 0, count: mask.count))
            }
            cmpEq(net.bytes, negated: neg)
        case .addrInSet(let dir, let v6, let s, let neg):
            loadAddress(dir, ipv6: v6)
            lookup(set: s, id: nil, negated: neg)
        case .addrPortInSet(let dir, let v6, let proto, let s, let neg):
            // As nft lays a concatenation: the address from register 1 on, the port in the
            // 32-bit register right after it (NFT_REG32_01 after 4 bytes, NFT_REG32_04 after 16).
            metaLoad(NFT_META_L4PROTO.rawValue)
            cmpEq([proto.number])
            loadAddress(dir, ipv6: v6)
            payload(NFT_PAYLOAD_TRANSPORT_HEADER.rawValue, offset: dir == .source ? 0 : 2, length: 2,
                    into: v6 ? UInt32(NFT_REG32_04.rawValue) : UInt32(NFT_REG32_01.rawValue))
            lookup(set: s, id: nil, negated: neg)
        case .ipVersion(let v):
            testVersion(v)
        case .l4proto(let p, let neg):
            metaLoad(NFT_META_L4PROTO.rawValue)
            cmpEq([p], negated: neg)
        case .l4protoIn(let ps, let neg):
            metaLoad(NFT_META_L4PROTO.rawValue)
            anonymous(.inetProto, Set(ps.map { .proto($0) }), negated: neg)
        case .port(let proto, let dir, let pm, let neg):
            metaLoad(NFT_META_L4PROTO.rawValue)
            cmpEq([proto.number])
            payload(NFT_PAYLOAD_TRANSPORT_HEADER.rawValue, offset: dir == .source ? 0 : 2, length: 2)
            switch pm {
            case .eq(let p): cmpEq(Self.bigEndian(p), negated: neg)
            case .range(let r):
                expr("range") { e in
                    Self.set(e, NFTNL_EXPR_RANGE_SREG, Self.reg1)
                    Self.set(e, NFTNL_EXPR_RANGE_OP, (neg ? NFT_RANGE_NEQ : NFT_RANGE_EQ).rawValue)
                    Self.set(e, NFTNL_EXPR_RANGE_FROM_DATA, Self.bigEndian(r.lowerBound))
                    Self.set(e, NFTNL_EXPR_RANGE_TO_DATA, Self.bigEndian(r.upperBound))
                }
            case .anyOf(let rs): anonymous(.inetService, Set(rs.map { .ports($0) }), negated: neg)
            case .set(let s): lookup(set: s, id: nil, negated: neg)
            }
        case .icmp(let v6, let type, let code, let neg):
            metaLoad(NFT_META_L4PROTO.rawValue)
            cmpEq([v6 ? 58 : 1], negated: neg && type == nil && code == nil)
            if neg, let type, let code {
                // notICMP with a code: not (type and code) — both bytes in one compare.
                payload(NFT_PAYLOAD_TRANSPORT_HEADER.rawValue, offset: 0, length: 2)
                cmpEq([type, code], negated: true)
            } else {
                if let type {
                    payload(NFT_PAYLOAD_TRANSPORT_HEADER.rawValue, offset: 0, length: 1)
                    cmpEq([type], negated: neg)
                }
                if let code {
                    payload(NFT_PAYLOAD_TRANSPORT_HEADER.rawValue, offset: 1, length: 1)
                    cmpEq([code], negated: neg)
                }
            }
        case .ctState(let states, let neg):
            expr("ct") { e in
                Self.set(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE.rawValue)
                Self.set(e, NFTNL_EXPR_CT_DREG, Self.reg1)
            }
            let bits = states.reduce(UInt32(0)) { $0 | $1.bit }
            bitwise(mask: Self.hostOrder(bits), xor: Self.hostOrder(0))
            // In the set: some bit set (!= 0); negated: none set (== 0).
            cmp(neg ? NFT_CMP_EQ : NFT_CMP_NEQ, Self.hostOrder(0))
        case .mark(let value, let mask, let neg):
            metaLoad(NFT_META_MARK.rawValue)
            if mask != 0xffff_ffff { bitwise(mask: Self.hostOrder(mask), xor: Self.hostOrder(0)) }
            cmpEq(Self.hostOrder(value & mask), negated: neg)
        case .sourceRouteMissing(let neg):
            // As nft encodes `missing`/`exists`: with the present flag the kernel stores 1 when
            // a route to the source leaves through the input interface, else 0 (a zeroed
            // register with one byte set); nft compares all four bytes.
            expr("fib") { e in
                let flags = NFTA_FIB_F_SADDR.rawValue | NFTA_FIB_F_IIF.rawValue | NFTA_FIB_F_PRESENT.rawValue
                Self.set(e, NFTNL_EXPR_FIB_FLAGS, UInt32(flags))
                Self.set(e, NFTNL_EXPR_FIB_RESULT, UInt32(NFT_FIB_RESULT_OIF.rawValue))
                Self.set(e, NFTNL_EXPR_FIB_DREG, Self.reg1)
            }
            cmpEq(Self.hostOrder(neg ? 1 : 0))
        }
    }

    private func isInput(_ m: NFTMatch) -> Bool {
        switch m {
        case .iifname, .iifnameInSet: return true
        default: return false
        }
    }

    private mutating func testVersion(_ v: Int) {
        guard testedVersion != v else { return }
        metaLoad(NFT_META_NFPROTO.rawValue)
        cmpEq([UInt8(v == 6 ? NFPROTO_IPV6 : NFPROTO_IPV4)])
        testedVersion = v
    }

    private mutating func loadAddress(_ dir: NFTDirection, ipv6: Bool) {
        testVersion(ipv6 ? 6 : 4)
        let offset: UInt32 = ipv6 ? (dir == .source ? 8 : 24) : (dir == .source ? 12 : 16)
        payload(NFT_PAYLOAD_NETWORK_HEADER.rawValue, offset: offset, length: ipv6 ? 16 : 4)
    }

    // MARK: statements and verdicts

    private func setMarkFromRegister() {
        expr("meta") { e in
            Self.set(e, NFTNL_EXPR_META_KEY, NFT_META_MARK.rawValue)
            Self.set(e, NFTNL_EXPR_META_SREG, Self.reg1)
        }
    }

    private func statement(_ s: NFTStatement) {
        switch s {
        case .counter: expr("counter") { _ in }
        case .setMark(let v):
            expr("immediate") { e in
                Self.set(e, NFTNL_EXPR_IMM_DREG, Self.reg1)
                Self.set(e, NFTNL_EXPR_IMM_DATA, Self.hostOrder(v))
            }
            setMarkFromRegister()
        case .orMark(let bits):
            metaLoad(NFT_META_MARK.rawValue)
            bitwise(mask: Self.hostOrder(~bits), xor: Self.hostOrder(bits))
            setMarkFromRegister()
        case .andMark(let mask):
            metaLoad(NFT_META_MARK.rawValue)
            bitwise(mask: Self.hostOrder(mask), xor: Self.hostOrder(0))
            setMarkFromRegister()
        case .log(let prefix):
            expr("log") { e in _ = nftnl_expr_set_str(e, UInt16(NFTNL_EXPR_LOG_PREFIX), prefix) }
        }
    }

    private func verdict(_ v: NFTVerdict) {
        switch v {
        case .vmapIifname(let m), .vmapOifname(let m):
            if case .vmapIifname = v { metaLoad(NFT_META_IIFNAME.rawValue) } else { metaLoad(NFT_META_OIFNAME.rawValue) }
            lookup(set: m, id: nil, verdictMap: true)
        default:
            let (code, chain) = Self.verdictCode(v)
            expr("immediate") { e in
                Self.set(e, NFTNL_EXPR_IMM_DREG, Self.regVerdict)
                Self.set(e, NFTNL_EXPR_IMM_VERDICT, code)
                if let chain { _ = nftnl_expr_set_str(e, UInt16(NFTNL_EXPR_IMM_CHAIN), chain) }
            }
        }
    }

    /// Kernel verdict code and chain of a plain verdict (NF_ACCEPT, NF_DROP, NFT_RETURN, ...).
    static func verdictCode(_ v: NFTVerdict) -> (UInt32, String?) {
        switch v {
        case .accept: return (UInt32(NF_ACCEPT), nil)
        case .drop: return (UInt32(NF_DROP), nil)
        case .return: return (UInt32(bitPattern: NFT_RETURN.rawValue), nil)
        case .jump(let c): return (UInt32(bitPattern: NFT_JUMP.rawValue), c)
        case .goto(let c): return (UInt32(bitPattern: NFT_GOTO.rawValue), c)
        case .vmapIifname, .vmapOifname: return (UInt32(NF_DROP), nil)
        }
    }

    /// The inverse of `verdictCode` (reading map elements back).
    static func verdict(code: UInt32, chain: String?) -> NFTVerdict? {
        switch Int32(bitPattern: code) {
        case Int32(NF_ACCEPT): return .accept
        case Int32(NF_DROP): return .drop
        case NFT_RETURN.rawValue: return .return
        case NFT_JUMP.rawValue: return chain.map { .jump($0) }
        case NFT_GOTO.rawValue: return chain.map { .goto($0) }
        default: return nil
        }
    }
}
