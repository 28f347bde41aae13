/// What is programmed in our table, as read back from the kernel: enough to diff against a
/// desired `NFTRuleset` (rule identities and handles, set keys, map verdicts), not the rules'
/// expressions themselves.
public struct NFTProgrammedState: Sendable, Hashable {
    public var tableExists: Bool
    public var chains: [String: Chain]
    public var sets: [String: SetState]
    public var maps: [String: [String: NFTVerdict]]

    public init(tableExists: Bool = false, chains: [String: Chain] = [:], sets: [String: SetState] = [:],
                maps: [String: [String: NFTVerdict]] = [:]) {
        self.tableExists = tableExists
        self.chains = chains
        self.sets = sets
        self.maps = maps
    }

    public struct Chain: Sendable, Hashable {
        public var base: NFTBaseChain?
        public var rules: [Rule]
        public init(base: NFTBaseChain?, rules: [Rule] = []) {
            self.base = base
            self.rules = rules
        }
    }

    public struct Rule: Sendable, Hashable {
        public var handle: UInt64
        /// Nil for a rule without our identity comment (never kept).
        public var identity: String?
        /// The rule itself when this process programmed it and saw it in place after a commit
        /// (`learn`); nil when read back. It lets the differ match a rule by value instead of
        /// hashing the desired rule's text (its storage is shared with the desired ruleset's
        /// copy). Not part of equality: the kernel's view is handles and identities.
        public var known: NFTRule? { didSet { isKnown = known != nil } }
        /// `known != nil`, read without copying the rule out (`learn` asks it of every rule of
        /// the ~850-rule dispatch chains after each commit).
        private(set) var isKnown: Bool
        public init(handle: UInt64, identity: String?, known: NFTRule? = nil) {
            self.handle = handle
            self.identity = identity
            self.known = known
            isKnown = known != nil
        }
        public static func == (a: Rule, b: Rule) -> Bool { a.handle == b.handle && a.identity == b.identity }
        public func hash(into h: inout Hasher) {
            h.combine(handle)
            h.combine(identity)
        }
    }

    public struct SetState: Sendable, Hashable {
        public var type: NFTSetType?
        public var interval: Bool
        public var counter: Bool
        public var elements: Set<NFTKeyElement>
        public init(type: NFTSetType?, interval: Bool, counter: Bool = false, elements: Set<NFTKeyElement> = []) {
            self.type = type
            self.interval = interval
            self.counter = counter
            self.elements = elements
        }
    }

    public var ruleCount: Int { chains.values.reduce(0) { $0 + $1.rules.count } }

    /// After a commit that brought `chains` (names) to `desired`, remembers each rule's value
    /// by position (the chain now holds exactly the desired rules in order) where not yet known. A chain whose
    /// count differs (rules not echoed yet, a foreign rule) is left as it is.
    mutating func learn(_ desired: NFTRuleset, chains names: some Sequence<String>) {
        for name in names {
            guard let rules = desired.chains[name]?.rules, var chain = self.chains[name], chain.rules.count == rules.count else { continue }
            self.chains[name] = nil  // `chain` alone holds the rules: updated in place
            // A rule's value stays right as long as its handle lives: only new ones are filled.
            for i in rules.indices where !chain.rules[i].isKnown { chain.rules[i].known = rules[i] }
            self.chains[name] = chain
        }
    }

    /// The state right after a ruleset was programmed into an empty table, rule handles unknown
    /// (zero). For tests of the differ.
    public static func assuming(_ rs: NFTRuleset) -> NFTProgrammedState {
        var s = NFTProgrammedState(tableExists: true)
        var handle: UInt64 = 0
        for c in rs.chains.values {
            s.chains[c.name] = Chain(base: c.base, rules: c.rules.map { r in
                handle += 1
                return Rule(handle: handle, identity: r.identity)
            })
        }
        for set in rs.sets.values {
            s.sets[set.name] = SetState(type: set.type, interval: set.interval, counter: set.counter, elements: NFTElementCodec.keyElements(set))
        }
        for m in rs.maps.values { s.maps[m.name] = m.elements }
        return s
    }
}
