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
    /// The ruleset `programmed` came from (nil when it was read from the kernel or is unknown).
    private var applied: NFTRuleset?

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
            applied = nil
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
            let current = try programmed ?? NFTReadBack(socket: socket, table: table, family: family).read()
            let previous = programmed == nil ? nil : applied
            let plan = NFTDiff.plan(from: current, to: desired, previous: previous, changed: previous == nil ? nil : changed)
            guard !plan.isEmpty else {
                programmed = current
                applied = desired
                return plan
            }
            programmed = nil
            applied = nil
            try commitLocked(plan)
            // Handles of added rules come from the kernel: re-read the chains that got rules.
            var (next, reread) = current.applying(plan)
            let reader = NFTReadBack(socket: socket, table: table, family: family)
            for chain in reread.sorted() { next.chains[chain]?.rules = try reader.rules(chain: chain)[chain] ?? [] }
            programmed = next
            applied = desired
            return plan
        }
    }

    /// Commits a plan as one batch (for tests and tools; `apply` is the normal way).
    public func commit(_ plan: NFTPlan) throws {
        try lock.withLock {
            programmed = nil
            applied = nil
            try commitLocked(plan)
        }
    }

    /// Deletes our table (and everything in it); no error if it does not exist.
    public func deleteTable() throws {
        try lock.withLock {
            programmed = nil
            applied = nil
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
        let bytes = batch.finish()
        for _ in 0..<Int(batch.lastSeq &- batch.beginSeq) { _ = socket.nextSeq() }
        try socket.send(bytes)
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
