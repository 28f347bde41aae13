import CCalicoSystem
import Core

/// Writes an `NFTPlan` as netlink messages into a batch, in the plan's order.
struct NFTPlanEncoder {
    let table: String
    let family: NFTFamily
    let batch: NFTBatch
    /// Batch-local ids for sets created in this batch.
    private var nextSetID: UInt32 = 1
    /// Most set elements per message: the element list is one attribute, at most 64 KiB.
    static let elementsPerMessage = 400
    /// Ask the kernel to echo each added rule (NLM_F_ECHO), handle included.
    let echoRules: Bool
    /// The sequence number of each of the plan's `addRules`, in order (to match the echoes).
    private(set) var ruleSeqs: [UInt32] = []

    init(table: String, family: NFTFamily, batch: NFTBatch, echoRules: Bool = false) {
        self.table = table
        self.family = family
        self.batch = batch
        self.echoRules = echoRules
    }

    private var create: Int32 { NLM_F_CREATE }

    mutating func encode(_ plan: NFTPlan) {
        if plan.createTable {
            batch.add(NFT_MSG_NEWTABLE, flags: create, .named(.add, .table, table)) { nlh in
                NFTObjects.withTable { t in
                    nftnl_table_set_str(t, UInt16(NFTNL_TABLE_NAME.rawValue), table)
                    nftnl_table_nlmsg_build_payload(nlh, t)
                }
            }
        }
        for chain in plan.flushChains {
            batch.add(NFT_MSG_DELRULE, flags: 0, .named(.flush, .chain, chain)) { nlh in
                NFTObjects.withRule { r in
                    nftnl_rule_set_str(r, UInt16(NFTNL_RULE_TABLE.rawValue), table)
                    nftnl_rule_set_str(r, UInt16(NFTNL_RULE_CHAIN.rawValue), chain)
                    nftnl_rule_nlmsg_build_payload(nlh, r)
                }
            }
        }
        for ref in plan.deleteRules {
            batch.add(NFT_MSG_DELRULE, flags: 0, .text("delete rule \(ref.chain) handle \(ref.handle)")) { nlh in
                NFTObjects.withRule { r in
                    nftnl_rule_set_str(r, UInt16(NFTNL_RULE_TABLE.rawValue), table)
                    nftnl_rule_set_str(r, UInt16(NFTNL_RULE_CHAIN.rawValue), chain(ref.chain))
                    nftnl_rule_set_u64(r, UInt16(NFTNL_RULE_HANDLE.rawValue), ref.handle)
                    nftnl_rule_nlmsg_build_payload(nlh, r)
                }
            }
        }
        for (map, keys) in plan.deleteMapElements.sorted(by: { $0.key < $1.key }) {
            elements(NFT_MSG_DELSETELEM, set: map, id: nil, keys.map { NFTKeyElement(key: NFTElementCodec.ifnameKey($0)) }, verdicts: nil)
        }
        for (set, keys) in plan.deleteSetElements.sorted(by: { $0.key < $1.key }) {
            elements(NFT_MSG_DELSETELEM, set: set, id: nil, keys, verdicts: nil)
        }
        for set in plan.deleteSets {
            batch.add(NFT_MSG_DELSET, flags: 0, .named(.delete, .set, set)) { nlh in
                NFTObjects.withSet { s in
                    nftnl_set_set_str(s, UInt16(NFTNL_SET_TABLE.rawValue), table)
                    nftnl_set_set_str(s, UInt16(NFTNL_SET_NAME.rawValue), set)
                    nftnl_set_nlmsg_build_payload(nlh, s)
                }
            }
        }
        for chain in plan.deleteChains {
            batch.add(NFT_MSG_DELCHAIN, flags: 0, .named(.delete, .chain, chain)) { nlh in
                NFTObjects.withChain { c in
                    nftnl_chain_set_str(c, UInt16(NFTNL_CHAIN_TABLE.rawValue), table)
                    nftnl_chain_set_str(c, UInt16(NFTNL_CHAIN_NAME.rawValue), chain)
                    nftnl_chain_nlmsg_build_payload(nlh, c)
                }
            }
        }
        for c in plan.addChains { addChain(c, verb: .add) }
        for c in plan.updateChains { addChain(c, verb: .update) }
        var setIDs: [String: UInt32] = [:]
        for set in plan.addSets {
            setIDs[set.name] = addSet(name: set.name, type: set.type, interval: set.interval, counter: set.counter, anonymous: false, verdictMap: false)
        }
        for map in plan.addMaps {
            setIDs[map] = addSet(name: map, type: .ifname, interval: false, counter: false, anonymous: false, verdictMap: true)
        }
        for (set, keys) in plan.addSetElements.sorted(by: { $0.key < $1.key }) {
            elements(NFT_MSG_NEWSETELEM, set: set, id: setIDs[set], keys, verdicts: nil)
        }
        for (map, entries) in plan.addMapElements.sorted(by: { $0.key < $1.key }) {
            let sorted = entries.sorted { $0.key < $1.key }
            elements(NFT_MSG_NEWSETELEM, set: map, id: setIDs[map],
                     sorted.map { NFTKeyElement(key: NFTElementCodec.ifnameKey($0.key)) }, verdicts: sorted.map(\.value))
        }
        for insert in plan.addRules { addRule(insert) }
    }

    private func chain(_ name: String) -> String { name }

    /// The description of the added rule sent as message `seq` of the batch `plan` was encoded
    /// into, as error messages name it; nil if `seq` added no rule.
    func ruleOperation(seq: UInt32, in plan: NFTPlan) -> String? {
        // ruleSeqs rise with plan.addRules' order (sequence numbers may wrap: compare offsets).
        guard let first = ruleSeqs.first else { return nil }
        let offset = seq &- first
        var low = 0, high = ruleSeqs.count
        while low < high {
            let mid = (low + high) / 2
            if ruleSeqs[mid] &- first < offset { low = mid + 1 } else { high = mid }
        }
        guard low < ruleSeqs.count, ruleSeqs[low] == seq, low < plan.addRules.count else { return nil }
        let insert = plan.addRules[low]
        return "add rule \(insert.chain) \(insert.rule.body)"
    }

    private func addChain(_ chain: NFTChain, verb: NFTBatchVerb) {
        batch.add(NFT_MSG_NEWCHAIN, flags: create, .named(verb, .chain, chain.name)) { nlh in
            NFTObjects.withChain { c in
                nftnl_chain_set_str(c, UInt16(NFTNL_CHAIN_TABLE.rawValue), table)
                nftnl_chain_set_str(c, UInt16(NFTNL_CHAIN_NAME.rawValue), chain.name)
                if let b = chain.base {
                    nftnl_chain_set_u32(c, UInt16(NFTNL_CHAIN_HOOKNUM.rawValue), b.hook.number)
                    nftnl_chain_set_s32(c, UInt16(NFTNL_CHAIN_PRIO.rawValue), b.priority)
                    nftnl_chain_set_str(c, UInt16(NFTNL_CHAIN_TYPE.rawValue), b.type.rawValue)
                    nftnl_chain_set_u32(c, UInt16(NFTNL_CHAIN_POLICY.rawValue), b.policy.number)
                }
                nftnl_chain_nlmsg_build_payload(nlh, c)
            }
        }
    }

    /// Adds a set (or verdict map); returns its batch-local id.
    private mutating func addSet(name: String, type: NFTSetType, interval: Bool, counter: Bool, anonymous: Bool, verdictMap: Bool) -> UInt32 {
        let id = nextSetID
        nextSetID += 1
        var flags: UInt32 = 0
        if interval { flags |= UInt32(NFT_SET_INTERVAL.rawValue) }
        if anonymous { flags |= UInt32(NFT_SET_ANONYMOUS.rawValue | NFT_SET_CONSTANT.rawValue) }
        if verdictMap { flags |= UInt32(NFT_SET_MAP.rawValue) }
        batch.add(NFT_MSG_NEWSET, flags: create, .named(.add, verdictMap ? .map : .set, name)) { nlh in
            NFTObjects.withSet { s in
                nftnl_set_set_str(s, UInt16(NFTNL_SET_TABLE.rawValue), table)
                nftnl_set_set_str(s, UInt16(NFTNL_SET_NAME.rawValue), name)
                nftnl_set_set_u32(s, UInt16(NFTNL_SET_FAMILY.rawValue), family.number)
                nftnl_set_set_u32(s, UInt16(NFTNL_SET_FLAGS.rawValue), flags)
                nftnl_set_set_u32(s, UInt16(NFTNL_SET_KEY_TYPE.rawValue), type.datatype)
                nftnl_set_set_u32(s, UInt16(NFTNL_SET_KEY_LEN.rawValue), UInt32(type.keyLength))
                nftnl_set_set_u32(s, UInt16(NFTNL_SET_ID.rawValue), id)
                // nft's userdata record 0 (key byte order): host for names, big-endian otherwise;
                // without it `nft list` prints interface names as "".
                let order: UInt32 = type == .ifname ? 1 : 2
                NFTObjects.setData([0, 4] + NFTRuleEncoder.hostOrder(order)) {
                    _ = nftnl_set_set_data(s, UInt16(NFTNL_SET_USERDATA.rawValue), $0, $1)
                }
                if verdictMap {
                    nftnl_set_set_u32(s, UInt16(NFTNL_SET_DATA_TYPE.rawValue), UInt32(truncatingIfNeeded: NFT_DATA_VERDICT.rawValue))
                    nftnl_set_set_u32(s, UInt16(NFTNL_SET_DATA_LEN.rawValue), 0)
                }
                // The set's expression template: the kernel gives every element a counter of its own.
                if counter, let expr = nftnl_expr_alloc("counter") { nftnl_set_add_expr(s, expr) }
                nftnl_set_nlmsg_build_payload(nlh, s)
            }
        }
        return id
    }

    /// Adds or deletes elements, in messages of at most `elementsPerMessage`.
    private func elements(_ type: nf_tables_msg_types, set: String, id: UInt32?, _ keys: [NFTKeyElement], verdicts: [NFTVerdict]?) {
        var start = 0
        let verb: NFTBatchVerb = type == NFT_MSG_NEWSETELEM ? .add : .delete
        while start < keys.count {
            let end = min(start + Self.elementsPerMessage, keys.count)
            let range = start..<end
            batch.add(type, flags: type == NFT_MSG_NEWSETELEM ? create : 0, .elements(verb, count: UInt16(range.count), set: set)) { nlh in
                NFTObjects.withSet { s in
                    nftnl_set_set_str(s, UInt16(NFTNL_SET_TABLE.rawValue), table)
                    // A set made in this batch is named by its batch id alone: the kernel looks a
                    // name up by walking every set of the table (~70 us at 1,466 sets) before it
                    // tries the id; without a name it goes to the id at once.
                    if let id {
                        nftnl_set_set_u32(s, UInt16(NFTNL_SET_ID.rawValue), id)
                    } else {
                        nftnl_set_set_str(s, UInt16(NFTNL_SET_NAME.rawValue), set)
                    }
                    for i in range {
                        guard let e = nftnl_set_elem_alloc() else { continue }
                        keys[i].withKeyBytes { _ = nftnl_set_elem_set(e, UInt16(NFTNL_SET_ELEM_KEY), $0.baseAddress!, UInt32($0.count)) }
                        if keys[i].intervalEnd {
                            nftnl_set_elem_set_u32(e, UInt16(NFTNL_SET_ELEM_FLAGS), UInt32(NFT_SET_ELEM_INTERVAL_END.rawValue))
                        }
                        if let verdicts {
                            let (code, chain) = NFTRuleEncoder.verdictCode(verdicts[i])
                            nftnl_set_elem_set_u32(e, UInt16(NFTNL_SET_ELEM_VERDICT), code)
                            if let chain { nftnl_set_elem_set_str(e, UInt16(NFTNL_SET_ELEM_CHAIN), chain) }
                        }
                        nftnl_set_elem_add(s, e)
                    }
                    nftnl_set_elems_nlmsg_build_payload(nlh, s)
                }
            }
            start = end
        }
    }

    private mutating func addRule(_ insert: NFTPlan.RuleInsert) {
        // Build the expressions first: anonymous sets they need go into the batch before the rule.
        NFTObjects.withRule { r in
            var encoder = NFTRuleEncoder(rule: r, firstSetID: nextSetID)
            encoder.encode(insert.rule)
            nextSetID = encoder.usedSetIDs
            for anon in encoder.anonymousSets {
                addAnonymousSet(anon)
            }
            nftnl_rule_set_str(r, UInt16(NFTNL_RULE_TABLE.rawValue), table)
            nftnl_rule_set_str(r, UInt16(NFTNL_RULE_CHAIN.rawValue), insert.chain)
            let comment = NFTRuleUserdata.encode(comment: NFTRuleIdentity.stored(identity: insert.identity, comment: insert.rule.comment))
            NFTObjects.setData(comment) { _ = nftnl_rule_set_data(r, UInt16(NFTNL_RULE_USERDATA.rawValue), $0, $1) }
            var flags = create | (echoRules ? NLM_F_ECHO : 0)
            if let before = insert.beforeHandle {
                nftnl_rule_set_u64(r, UInt16(NFTNL_RULE_POSITION.rawValue), before)
            } else {
                flags |= NLM_F_APPEND
            }
            // Described only if it fails (`ruleOperation`): rendering every rule's text up front
            // cost MiBs and milliseconds on a full program.
            ruleSeqs.append(batch.add(NFT_MSG_NEWRULE, flags: flags, nil) { nlh in
                nftnl_rule_nlmsg_build_payload(nlh, r)
            })
        }
    }

    private func addAnonymousSet(_ anon: NFTAnonymousSet) {
        var flags = UInt32(NFT_SET_ANONYMOUS.rawValue | NFT_SET_CONSTANT.rawValue)
        if anon.interval { flags |= UInt32(NFT_SET_INTERVAL.rawValue) }
        batch.add(NFT_MSG_NEWSET, flags: create, .text("add anonymous set")) { nlh in
            NFTObjects.withSet { s in
                nftnl_set_set_str(s, UInt16(NFTNL_SET_TABLE.rawValue), table)
                nftnl_set_set_str(s, UInt16(NFTNL_SET_NAME.rawValue), anon.name)
                nftnl_set_set_u32(s, UInt16(NFTNL_SET_FAMILY.rawValue), family.number)
                nftnl_set_set_u32(s, UInt16(NFTNL_SET_FLAGS.rawValue), flags)
                nftnl_set_set_u32(s, UInt16(NFTNL_SET_KEY_TYPE.rawValue), anon.type.datatype)
                nftnl_set_set_u32(s, UInt16(NFTNL_SET_KEY_LEN.rawValue), UInt32(anon.type.keyLength))
                nftnl_set_set_u32(s, UInt16(NFTNL_SET_ID.rawValue), anon.id)
                nftnl_set_nlmsg_build_payload(nlh, s)
            }
        }
        elements(NFT_MSG_NEWSETELEM, set: anon.name, id: anon.id, anon.keys, verdicts: nil)
    }
}

/// The rule comment in nft's userdata format: TLV records, type 0 the comment, NUL-terminated.
enum NFTRuleUserdata {
    static func encode(comment: String) -> [UInt8] {
        let text = Array(comment.utf8.prefix(127)) + [0]
        return [0, UInt8(text.count)] + text
    }

    static func comment(in data: [UInt8]) -> String? {
        var i = 0
        while i + 2 <= data.count {
            let type = data[i], len = Int(data[i + 1])
            guard i + 2 + len <= data.count else { return nil }
            if type == 0 { return String(decoding: data[(i + 2)..<(i + 2 + len)].prefix { $0 != 0 }, as: UTF8.self) }
            i += 2 + len
        }
        return nil
    }
}
