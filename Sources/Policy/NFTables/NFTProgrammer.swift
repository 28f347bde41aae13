import CCalicoSystem
import Core
import Foundation

/// Programs one nftables table of ours through netlink: every `apply` is one atomic batch with
/// the difference between what is programmed and what is desired. The first `apply` reads the
/// kernel's state, so a restart reconciles without flushing. Calls are serialised.
public final class NFTProgrammer: @unchecked Sendable {
    public let table: String
    public let family: NFTFamily
    public let namespace: NetNamespace?
    private let socket: NFTSocket
    private let lock = NSLock()
    private var programmed: NFTProgrammedState?
    /// Whether `programmed` is the result of the last successful `apply`, so that its caller's
    /// `changed` names are relative to what is programmed. (The ruleset itself is not kept: the
    /// caller holds it, and a second copy here would double felix's memory.)
    private var inSync = false
    /// The last applied ruleset, kept only for callers that do not name their changes (it lets
    /// the differ skip what equals it); with `changed` it is not needed and not kept.
    private var applied: NFTRuleset?
    /// Chains that got rules since they were last read: their rules in `programmed` lack the new
    /// ones (the kernel assigns handles). Read when a diff next needs them, not after every
    /// commit: a full program would otherwise read back the whole table.
    private var unread: Set<String> = []

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

    /// Brings the table to `desired` in one batch and returns what changed. On error nothing was
    /// applied and the next call re-reads the kernel. `changed`, when given, names the chains,
    /// sets and maps that may differ from the ruleset of the previous successful `apply` (the
    /// others are not compared); it is ignored when that ruleset is not known.
    @discardableResult
    public func apply(_ desired: NFTRuleset, changed: Set<String>? = nil) throws -> NFTPlan {
        try lock.withLock {
            precondition(desired.table == table && desired.family == family, "ruleset for another table")
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
            try readUnread(narrowed.map { unread.intersection($0) } ?? unread, into: &current)
            var plan = NFTDiff.plan(from: current, to: desired, previous: previous, changed: narrowed)
            // A diff that went beyond the named pieces (a set or chain recreated) must see every
            // chain whole: read the rest and diff again.
            let touched = Set(plan.addRules.map(\.chain) + plan.deleteRules.map(\.chain) + plan.flushChains)
            if !unread.isDisjoint(with: touched) {
                try readUnread(unread, into: &current)
                plan = NFTDiff.plan(from: current, to: desired, previous: previous, changed: narrowed)
            }
            guard !plan.isEmpty else {
                programmed = current
                inSync = true
                applied = changed == nil ? desired : nil
                return plan
            }
            try commitLocked(plan)
            // Handles of added rules come from the kernel: their chains are read when next needed.
            // `current` is the only reference to the state now (`programmed` is nil): updated in place.
            unread.formUnion(current.apply(plan))
            unread.subtract(plan.deleteChains)
            programmed = current
            inSync = true
            applied = changed == nil ? desired : nil
            return plan
        }
    }

    /// Reads the rules of `chains` into `state`: one dump per chain when few, else one of the table.
    private func readUnread(_ chains: Set<String>, into state: inout NFTProgrammedState) throws {
        guard !chains.isEmpty else { return }
        let reader = NFTReadBack(socket: socket, table: table, family: family)
        if chains.count <= 8 {
            for chain in chains { state.chains[chain]?.rules = try reader.rules(chain: chain)[chain] ?? [] }
        } else {
            let all = try reader.rules(chain: nil)
            for chain in chains { state.chains[chain]?.rules = all[chain] ?? [] }
        }
        unread.subtract(chains)
    }

    /// Commits a plan as one batch (for tests and tools; `apply` is the normal way).
    public func commit(_ plan: NFTPlan) throws {
        try lock.withLock {
            programmed = nil
            inSync = false
            try commitLocked(plan)
        }
    }

    /// Deletes our table (and everything in it); no error if it does not exist.
    public func deleteTable() throws {
        try lock.withLock {
            programmed = nil
            inSync = false
            let batch = NFTBatch(family: family, firstSeq: socket.nextSeq())
            batch.add(NFT_MSG_DELTABLE, flags: 0, "delete table \(table)") { nlh in
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

    private func commitLocked(_ plan: NFTPlan) throws {
        let batch = NFTBatch(family: family, firstSeq: socket.nextSeq())
        var encoder = NFTPlanEncoder(table: table, family: family, batch: batch)
        encoder.encode(plan)
        try send(batch)
    }

    /// Sends a batch and waits for the answer to its last message; any error rejects the whole.
    private func send(_ batch: NFTBatch) throws {
        let chunks = batch.finish()
        for _ in 0..<Int(batch.lastSeq &- batch.beginSeq) { _ = socket.nextSeq() }
        try socket.send(chunks)
        var failures: [NFTError.Failure] = []
        var finished = false
        while !finished {
            try socket.receive { nlh in
                guard Int32(nlh.pointee.nlmsg_type) == NLMSG_ERROR else { return }
                let seq = nlh.pointee.nlmsg_seq
                let code = NFTSocket.errorCode(nlh)
                if code != 0 {
                    failures.append(.init(operation: batch.operations[seq] ?? "batch", errno: -code))
                }
                if seq == batch.lastSeq || seq == batch.beginSeq { finished = true }
            }
        }
        if !failures.isEmpty { throw NFTError.batchRejected(failures) }
    }
}
