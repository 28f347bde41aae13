#if canImport(Glibc)
import Glibc
#endif
import CCalicoSystem
import Core

/// Programs one nftables table of ours through netlink: every `apply` is one atomic batch with
/// the difference between what is programmed and what is desired. The first `apply` reads the
/// kernel's state, so a restart reconciles without flushing. Calls are serialised.
public final class NFTProgrammer: @unchecked Sendable {
    public let table: String
    public let family: NFTFamily
    public let namespace: NetNamespace?
    private let socket: NFTSocket
    private let lock = ThreadLock()
    private var programmed: NFTProgrammedState?
    /// Whether `programmed` is the result of the last successful `apply`, so that its caller's
    /// `changed` names are relative to what is programmed. (The ruleset itself is not kept: the
    /// caller holds it, and a second copy here would double felix's memory.)
    private var inSync = false
    /// The last applied ruleset, kept only for callers that do not name their changes (it lets
    /// the differ skip what equals it); with `changed` it is not needed and not kept.
    private var applied: NFTRuleset?
    /// Chains that got rules of unknown handle since they were last read: their rules in
    /// `programmed` lack the new ones. Read when a diff next needs them, not after every commit.
    private var unread: Set<String> = []
    /// Batches adding at most this many rules ask the kernel to echo them (NLM_F_ECHO), which
    /// gives their handles without a read back. Bigger ones (a full program) do not: thousands of
    /// echoes cost the commit more than the occasional later dump of a chain, and could overrun
    /// the socket's receive buffer (the kernel queues them all before we read: 256 echoes of at
    /// most a few hundred bytes each fit even the default buffer, let alone our 4 MiB one).
    /// 0 turns echoes off. Set it before applying.
    public var echoLimit = 256
    private var stats = NFTApplyStats()
    /// What the last `apply` did and where its time went.
    public var lastStats: NFTApplyStats { lock.withLock { stats } }

    /// Opens a netfilter netlink socket in `namespace` (nil: the caller's).
    public init(namespace: NetNamespace? = nil, table: String = "calico", family: NFTFamily = .inet) throws {
        self.table = table
        self.family = family
        self.namespace = namespace
        socket = try NFTSocket(namespace: namespace)
    }

    /// Reads what is programmed in our table now (and forgets any cached state).
    public func readProgrammed() throws -> NFTProgrammedState {
        try lock.withLock {
            let state = try NFTReadBack(socket: socket, table: table, family: family).read()
            programmed = state
            inSync = false
            unread = []
            return state
        }
    }

    /// The programmer's own view of the table (nil before the first apply or after an error),
    /// and the chains in it whose rules are not known yet. For tests and diagnostics.
    public var cachedState: (state: NFTProgrammedState, unreadChains: Set<String>)? {
        lock.withLock { programmed.map { ($0, unread) } }
    }

    /// Brings the table to `desired` in one batch and returns what changed. On error nothing was
    /// applied and the next call re-reads the kernel. `changed`, when given, names the chains,
    /// sets and maps that may differ from the ruleset of the previous successful `apply` (the
    /// others are not compared); it is ignored when that ruleset is not known, and so are
    /// `deltas` (the elements that came and went in some of those sets: `NFTSetDelta`).
    @discardableResult
    public func apply(_ desired: NFTRuleset, changed: Set<String>? = nil, deltas: [String: NFTSetDelta] = [:]) throws -> NFTPlan {
        try lock.withLock {
            precondition(desired.table == table && desired.family == family, "ruleset for another table")
            var stats = NFTApplyStats()
            defer { self.stats = stats }
            var t = NFTApplyStats.now()
            func lap(_ phase: WritableKeyPath<NFTApplyStats, UInt64>) {
                let n = NFTApplyStats.now()
                stats[keyPath: phase] += n - t
                t = n
            }
            if programmed == nil { unread = [] }
            var current = try programmed ?? NFTReadBack(socket: socket, table: table, family: family).read()
            // With the caller's list of changes, the differ needs no previous ruleset to compare
            // with: it only visits the named pieces (`desired` stands in for "known").
            let known = programmed != nil && inSync
            let narrowed = known ? changed : nil
            let previous = !known ? nil : (changed != nil ? desired : applied)
            programmed = nil
            inSync = false
            applied = nil
            stats.chainsRead += try readUnread(narrowed.map { unread.intersection($0) } ?? unread, into: &current)
            lap(\.readNs)
            var plan = NFTDiff.plan(from: current, to: desired, previous: previous, changed: narrowed, deltas: narrowed == nil ? [:] : deltas)
            lap(\.diffNs)
            // A diff that went beyond the named pieces (a set or chain recreated) must see every
            // chain whole: read the rest and diff again.
            if !unread.isEmpty {
                let touched = Set(plan.addRules.map(\.chain) + plan.deleteRules.map(\.chain) + plan.flushChains)
                if !unread.isDisjoint(with: touched) {
                    stats.chainsRead += try readUnread(unread, into: &current)
                    lap(\.readNs)
                    plan = NFTDiff.plan(from: current, to: desired, previous: previous, changed: narrowed, deltas: narrowed == nil ? [:] : deltas)
                    lap(\.diffNs)
                }
            }
            // The chains the diff saw whole now hold exactly the desired rules: remember them by
            // value so the next diff matches them without hashing their text.
            let seen = narrowed ?? Set(plan.addRules.map(\.chain) + plan.deleteRules.map(\.chain))
            if !plan.isEmpty {
                let echo = plan.addRules.count <= echoLimit
                let handles = try commitLocked(plan, echoRules: echo, lap: lap)
                // Handles of added rules come from the kernel's echoes; chains of any not echoed are
                // read when next needed. `current` is the only reference to the state now
                // (`programmed` is nil): updated in place.
                let left = current.apply(plan, handles: handles)
                unread.formUnion(left)
                unread.subtract(plan.deleteChains)
                // Large chains left unread (a full program's shared dispatch chains) are read
                // now, not by the next update that edits them: a dump of ~850 rules would cost
                // that update 10-20 ms.
                let large = left.filter { (desired.chains[$0]?.rules.count ?? 0) >= Self.readAheadRules }
                if !large.isEmpty { stats.chainsRead += try readUnread(large, into: &current) }
                stats.rulesEchoed = handles.reduce(0) { $0 + ($1 == nil ? 0 : 1) }
                stats.chainsLeftUnread = left.count - large.count
            }
            current.learn(desired, chains: seen.lazy.filter { !self.unread.contains($0) })  // not `subtracting`: O(unread)
            if !plan.isEmpty { lap(\.updateNs) }
            programmed = current
            inSync = true
            applied = changed == nil ? desired : nil
            return plan
        }
    }

    /// Chains at least this long are read back right after a commit that did not echo them.
    static let readAheadRules = 128

    /// Reads the rules of `chains` into `state`: one dump per chain when few, else one of the
    /// table. Returns how many chains it read.
    private func readUnread(_ chains: Set<String>, into state: inout NFTProgrammedState) throws -> Int {
        guard !chains.isEmpty else { return 0 }
        let reader = NFTReadBack(socket: socket, table: table, family: family)
        if chains.count <= 8 {
            for chain in chains { state.chains[chain]?.rules = try reader.rules(chain: chain)[chain] ?? [] }
        } else {
            let all = try reader.rules(chain: nil)
            for chain in chains { state.chains[chain]?.rules = all[chain] ?? [] }
        }
        unread.subtract(chains)
        return chains.count
    }

    /// Commits a plan as one batch (for tests and tools; `apply` is the normal way).
    public func commit(_ plan: NFTPlan) throws {
        try lock.withLock {
            programmed = nil
            inSync = false
            _ = try commitLocked(plan, echoRules: false) { _ in }
        }
    }

    /// Deletes our table (and everything in it); no error if it does not exist.
    public func deleteTable() throws {
        try lock.withLock {
            programmed = nil
            inSync = false
            let batch = NFTBatch(family: family, firstSeq: socket.nextSeq())
            batch.add(NFT_MSG_DELTABLE, flags: 0, .named(.delete, .table, table)) { nlh in
                NFTObjects.withTable { t in
                    nftnl_table_set_str(t, UInt16(NFTNL_TABLE_NAME.rawValue), table)
                    nftnl_table_nlmsg_build_payload(nlh, t)
                }
            }
            do {
                try send(batch)
            } catch NFTError.batchRejected(let failures) where failures.allSatisfy({ $0.errno == ENOENT }) {
                return
            }
        }
    }

    /// Commits `plan` as one batch; returns the kernel's handle of each of `plan.addRules` that
    /// it echoed (nil where not asked or not echoed).
    private func commitLocked(_ plan: NFTPlan, echoRules: Bool,
                              lap: (WritableKeyPath<NFTApplyStats, UInt64>) -> Void) throws -> [UInt64?] {
        let batch = NFTBatch(family: family, firstSeq: socket.nextSeq())
        var encoder = NFTPlanEncoder(table: table, family: family, batch: batch, echoRules: echoRules)
        encoder.encode(plan)
        lap(\.encodeNs)
        let describe = { [encoder] (seq: UInt32) in encoder.ruleOperation(seq: seq, in: plan) }
        guard echoRules, !encoder.ruleSeqs.isEmpty else {
            try send(batch, describe: describe)
            lap(\.commitNs)
            return []
        }
        var echoed: [UInt32: UInt64] = [:]
        try send(batch, describe: describe) { seq, handle in echoed[seq] = handle }
        lap(\.commitNs)
        return encoder.ruleSeqs.map { echoed[$0] }
    }

    /// Sends a batch and waits for the answer to its last message; any error rejects the whole.
    /// Echoed rules (they come before the acks: the kernel sends them as it commits) go to `echo`
    /// with their message's sequence number and handle. `describe` names the messages the batch
    /// has no description of (added rules) when they fail.
    private func send(_ batch: NFTBatch, describe: (UInt32) -> String? = { _ in nil },
                      echo: ((UInt32, UInt64) -> Void)? = nil) throws {
        let chunks = batch.finish()
        for _ in 0..<Int(batch.lastSeq &- batch.beginSeq) { _ = socket.nextSeq() }
        try socket.send(chunks)
        var failures: [NFTError.Failure] = []
        var finished = false
        while !finished {
            try socket.receive { nlh in
                if let echo, NFTEcho.isNewRule(nlh), let handle = NFTEcho.ruleHandle(nlh) {
                    echo(nlh.pointee.nlmsg_seq, handle)
                    return
                }
                guard Int32(nlh.pointee.nlmsg_type) == NLMSG_ERROR else { return }
                let seq = nlh.pointee.nlmsg_seq
                let code = NFTSocket.errorCode(nlh)
                if code != 0 {
                    failures.append(.init(operation: batch.operation(seq: seq) ?? describe(seq) ?? "batch", errno: -code))
                }
                if seq == batch.lastSeq || seq == batch.beginSeq { finished = true }
            }
        }
        if !failures.isEmpty { throw NFTError.batchRejected(failures) }
    }
}
