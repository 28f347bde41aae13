import CCalicoSystem
import Core

/// Reads our table's programmed state back from the kernel: chains, rules (handle and identity
/// comment), sets and maps with their elements. Anonymous sets belong to rules and are skipped.
struct NFTReadBack {
    let socket: NFTSocket
    let table: String
    let family: NFTFamily

    func read() throws -> NFTProgrammedState {
        var state = NFTProgrammedState()
        try dump(NFT_MSG_GETTABLE, payload: { _ in }) { nlh in
            NFTObjects.withTable { t in
                guard nftnl_table_nlmsg_parse(nlh, t) >= 0 else { return }
                if str(nftnl_table_get_str(t, UInt16(NFTNL_TABLE_NAME.rawValue))) == table { state.tableExists = true }
            }
        }
        guard state.tableExists else { return state }
        try dump(NFT_MSG_GETCHAIN, payload: { _ in }) { nlh in
            NFTObjects.withChain { c in
                guard nftnl_chain_nlmsg_parse(nlh, c) >= 0,
                      str(nftnl_chain_get_str(c, UInt16(NFTNL_CHAIN_TABLE.rawValue))) == table,
                      let name = str(nftnl_chain_get_str(c, UInt16(NFTNL_CHAIN_NAME.rawValue))) else { return }
                var base: NFTBaseChain?
                if nftnl_chain_is_set(c, UInt16(NFTNL_CHAIN_HOOKNUM.rawValue)),
                   let hook = NFTHook(number: nftnl_chain_get_u32(c, UInt16(NFTNL_CHAIN_HOOKNUM.rawValue))) {
                    let type = str(nftnl_chain_get_str(c, UInt16(NFTNL_CHAIN_TYPE.rawValue))).flatMap(NFTChainType.init) ?? .filter
                    let policy: NFTChainPolicy = nftnl_chain_get_u32(c, UInt16(NFTNL_CHAIN_POLICY.rawValue)) == 0 ? .drop : .accept
                    base = NFTBaseChain(type: type, hook: hook, priority: nftnl_chain_get_s32(c, UInt16(NFTNL_CHAIN_PRIO.rawValue)), policy: policy)
                }
                state.chains[name] = .init(base: base)
            }
        }
        for (chain, rules) in try rules(chain: nil) { state.chains[chain, default: .init(base: nil)].rules = rules }
        var sets: [(name: String, map: Bool, type: NFTSetType?, interval: Bool, counter: Bool)] = []
        try dump(NFT_MSG_GETSET, payload: { nlh in
            NFTObjects.withSet { s in
                nftnl_set_set_str(s, UInt16(NFTNL_SET_TABLE.rawValue), table)
                nftnl_set_nlmsg_build_payload(nlh, s)
            }
        }) { nlh in
            NFTObjects.withSet { s in
                guard nftnl_set_nlmsg_parse(nlh, s) >= 0,
                      str(nftnl_set_get_str(s, UInt16(NFTNL_SET_TABLE.rawValue))) == table,
                      let name = str(nftnl_set_get_str(s, UInt16(NFTNL_SET_NAME.rawValue))) else { return }
                let flags = nftnl_set_get_u32(s, UInt16(NFTNL_SET_FLAGS.rawValue))
                guard flags & UInt32(NFT_SET_ANONYMOUS.rawValue) == 0 else { return }
                let type = NFTSetType(datatype: nftnl_set_get_u32(s, UInt16(NFTNL_SET_KEY_TYPE.rawValue)))
                // Our sets carry at most one expression, a counter (nftnl parses one into
                // NFTNL_SET_EXPR, several into NFTNL_SET_EXPRESSIONS).
                let counter = nftnl_set_is_set(s, UInt16(NFTNL_SET_EXPR.rawValue)) || nftnl_set_is_set(s, UInt16(NFTNL_SET_EXPRESSIONS.rawValue))
                sets.append((name, flags & UInt32(NFT_SET_MAP.rawValue) != 0, type, flags & UInt32(NFT_SET_INTERVAL.rawValue) != 0, counter))
            }
        }
        for set in sets {
            var elements = Set<NFTKeyElement>()
            var verdicts: [String: NFTVerdict] = [:]
            try dump(NFT_MSG_GETSETELEM, payload: { nlh in
                NFTObjects.withSet { s in
                    nftnl_set_set_str(s, UInt16(NFTNL_SET_TABLE.rawValue), table)
                    nftnl_set_set_str(s, UInt16(NFTNL_SET_NAME.rawValue), set.name)
                    nftnl_set_elems_nlmsg_build_payload(nlh, s)
                }
            }) { nlh in
                NFTObjects.withSet { s in
                    guard nftnl_set_elems_nlmsg_parse(nlh, s) >= 0, let it = nftnl_set_elems_iter_create(s) else { return }
                    defer { nftnl_set_elems_iter_destroy(it) }
                    var e = nftnl_set_elems_iter_next(it)
                    while let elem = e {
                        var len: UInt32 = 0
                        let key = nftnl_set_elem_get(elem, UInt16(NFTNL_SET_ELEM_KEY), &len)
                            .map { Array(UnsafeRawBufferPointer(start: $0, count: Int(len))) } ?? []
                        let flags = nftnl_set_elem_is_set(elem, UInt16(NFTNL_SET_ELEM_FLAGS))
                            ? nftnl_set_elem_get_u32(elem, UInt16(NFTNL_SET_ELEM_FLAGS)) : 0
                        if set.map {
                            let code = nftnl_set_elem_get_u32(elem, UInt16(NFTNL_SET_ELEM_VERDICT))
                            let chain = nftnl_set_elem_is_set(elem, UInt16(NFTNL_SET_ELEM_CHAIN))
                                ? str(nftnl_set_elem_get_str(elem, UInt16(NFTNL_SET_ELEM_CHAIN))) : nil
                            if let v = NFTRuleEncoder.verdict(code: code, chain: chain) {
                                verdicts[NFTElementCodec.ifname(fromKey: key)] = v
                            }
                        } else if key.count <= NFTKeyElement.maxKeyLength {
                            // Longer keys belong to set types this table never makes (its type
                            // reads back unknown, so the diff recreates the set anyway).
                            elements.insert(NFTKeyElement(key: key, intervalEnd: flags & UInt32(NFT_SET_ELEM_INTERVAL_END.rawValue) != 0))
                        }
                        e = nftnl_set_elems_iter_next(it)
                    }
                }
            }
            if set.map {
                state.maps[set.name] = verdicts
            } else {
                state.sets[set.name] = .init(type: set.type, interval: set.interval, counter: set.counter, elements: elements)
            }
        }
        return state
    }

    /// Rules by chain, in order: of one chain, or of the whole table.
    func rules(chain only: String?) throws -> [String: [NFTProgrammedState.Rule]] {
        var result: [String: [NFTProgrammedState.Rule]] = [:]
        try dump(NFT_MSG_GETRULE, payload: { nlh in
            NFTObjects.withRule { r in
                nftnl_rule_set_str(r, UInt16(NFTNL_RULE_TABLE.rawValue), table)
                if let only { nftnl_rule_set_str(r, UInt16(NFTNL_RULE_CHAIN.rawValue), only) }
                nftnl_rule_nlmsg_build_payload(nlh, r)
            }
        }) { nlh in
            NFTObjects.withRule { r in
                guard nftnl_rule_nlmsg_parse(nlh, r) >= 0,
                      str(nftnl_rule_get_str(r, UInt16(NFTNL_RULE_TABLE.rawValue))) == table,
                      let chain = str(nftnl_rule_get_str(r, UInt16(NFTNL_RULE_CHAIN.rawValue))),
                      only == nil || only == chain else { return }
                var len: UInt32 = 0
                var identity: String?
                if nftnl_rule_is_set(r, UInt16(NFTNL_RULE_USERDATA.rawValue)),
                   let p = nftnl_rule_get_data(r, UInt16(NFTNL_RULE_USERDATA.rawValue), &len) {
                    let bytes = Array(UnsafeRawBufferPointer(start: p, count: Int(len)))
                    identity = NFTRuleUserdata.comment(in: bytes).flatMap(NFTRuleIdentity.parse(stored:))
                }
                let handle = nftnl_rule_get_u64(r, UInt16(NFTNL_RULE_HANDLE.rawValue))
                result[chain, default: []].append(.init(handle: handle, identity: identity))
            }
        }
        return result
    }

    private func str(_ p: UnsafePointer<CChar>?) -> String? { p.map { String(cString: $0) } }

    private func dump(_ type: nf_tables_msg_types, payload: (UnsafeMutablePointer<nlmsghdr>) -> Void,
                      _ each: (UnsafePointer<nlmsghdr>) throws -> Void) throws {
        let seq = socket.nextSeq()
        var buffer = [UInt8](repeating: 0, count: 4096)
        let request: [UInt8] = buffer.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
            guard let nlh = nftnl_nlmsg_build_hdr(base, UInt16(type.rawValue), UInt16(family.number),
                                                  UInt16(NLM_F_DUMP), seq) else { return [] }
            payload(nlh)
            return Array(UnsafeRawBufferPointer(start: raw.baseAddress, count: Int(nlh.pointee.nlmsg_len)))
        }
        buffer.removeAll()
        try socket.dump(request, seq: seq, each)
    }
}
