/// The changes that take the programmed table to the desired ruleset, in the order one batch
/// applies them: removals first (rules, then map and set elements, then sets and chains), then
/// additions (chains, sets, elements, rules), so every reference resolves inside the batch.
public struct NFTPlan: Sendable, Hashable {
    public var table: String
    public var family: NFTFamily
    public var createTable = false
    /// Chains whose rules all go (they are deleted or recreated).
    public var flushChains: [String] = []
    public var deleteRules: [RuleRef] = []
    public var deleteMapElements: [String: [String]] = [:]
    public var deleteSetElements: [String: [NFTKeyElement]] = [:]
    public var deleteSets: [String] = []
    public var deleteChains: [String] = []
    /// Chains to create, and base chains whose policy changes in place.
    public var addChains: [NFTChain] = []
    public var updateChains: [NFTChain] = []
    public var addSets: [NFTSet] = []
    public var addMaps: [String] = []
    public var addSetElements: [String: [NFTKeyElement]] = [:]
    public var addMapElements: [String: [String: NFTVerdict]] = [:]
    public var addRules: [RuleInsert] = []

    public init(table: String, family: NFTFamily) {
        self.table = table
        self.family = family
    }

    public struct RuleRef: Sendable, Hashable {
        public var chain: String
        public var handle: UInt64
    }

    public struct RuleInsert: Sendable, Hashable {
        public var chain: String
        /// A constant: `identity` is its hash.
        public let rule: NFTRule
        /// Insert before this rule; nil appends at the end of the chain.
        public var beforeHandle: UInt64?
        /// `rule.identity`, hashed once: the differ, the encoder (the rule's comment) and the
        /// state update all need it, and it costs ~6 us a rule (its text rendered and hashed).
        public let identity: String

        public init(chain: String, rule: NFTRule, beforeHandle: UInt64? = nil, identity: String? = nil) {
            self.chain = chain
            self.rule = rule
            self.beforeHandle = beforeHandle
            self.identity = identity ?? rule.identity
        }
    }

    public var isEmpty: Bool { messageCount == 0 }

    /// How many netlink messages (besides batch begin/end) the plan needs, element chunks aside.
    public var messageCount: Int {
        (createTable ? 1 : 0) + flushChains.count + deleteRules.count + deleteMapElements.count
            + deleteSetElements.count + deleteSets.count + deleteChains.count + addChains.count
            + updateChains.count + addSets.count + addMaps.count + addSetElements.count
            + addMapElements.count + addRules.count
    }

    /// A one-line summary for logs.
    public var summary: String {
        let del = deleteRules.count, add = addRules.count
        let delElems = deleteSetElements.values.reduce(0) { $0 + $1.count } + deleteMapElements.values.reduce(0) { $0 + $1.count }
        let addElems = addSetElements.values.reduce(0) { $0 + $1.count } + addMapElements.values.reduce(0) { $0 + $1.count }
        return "chains +\(addChains.count) -\(deleteChains.count) ~\(updateChains.count), sets +\(addSets.count + addMaps.count) -\(deleteSets.count), "
            + "elements +\(addElems) -\(delElems), rules +\(add) -\(del) (flushed chains \(flushChains.count))"
    }
}

extension NFTPlan: CustomStringConvertible {
    /// Deterministic listing of every change (tests compare plans through it).
    public var description: String {
        var lines: [String] = []
        if createTable { lines.append("add table \(family.rawValue) \(table)") }
        lines += flushChains.map { "flush chain \($0)" }
        lines += deleteRules.map { "delete rule \($0.chain) handle \($0.handle)" }
        for (m, keys) in deleteMapElements.sorted(by: { $0.key < $1.key }) { lines.append("delete element \(m) \(keys.sorted())") }
        for (s, keys) in deleteSetElements.sorted(by: { $0.key < $1.key }) { lines.append("delete element \(s) \(keys.sorted())") }
        lines += deleteSets.map { "delete set \($0)" }
        lines += deleteChains.map { "delete chain \($0)" }
        lines += addChains.map { "add chain \($0.name)" }
        lines += updateChains.map { "update chain \($0.name) policy \($0.base?.policy.rawValue ?? "-")" }
        lines += addSets.map { "add set \($0.name)" }
        lines += addMaps.map { "add map \($0)" }
        for (s, v) in addSetElements.sorted(by: { $0.key < $1.key }) { lines.append("add element \(s) \(v.sorted())") }
        for (m, v) in addMapElements.sorted(by: { $0.key < $1.key }) {
            lines.append("add element \(m) " + v.map { "\($0.key):\(NFTText.verdict($0.value))" }.sorted().joined(separator: ","))
        }
        lines += addRules.map { "add rule \($0.chain) \($0.beforeHandle.map { "before \($0) " } ?? "")\($0.rule.body)" }
        return lines.joined(separator: "\n")
    }
}
