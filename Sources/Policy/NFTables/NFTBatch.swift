import CCalicoSystem
import Core

/// One nf_tables transaction being assembled: netlink messages between batch begin and end,
/// each remembered by sequence number so a rejection can say which change failed. The bytes are
/// kept in fixed-size chunks sent together as one datagram (an iovec each): a full program's
/// batch of several MiB never exists twice in memory, as a growing array's copies would.
final class NFTBatch {
    private(set) var chunks: [[UInt8]] = []
    /// What each message does, for error messages, in sequence order; the text is made only
    /// when a message fails (`operation(seq:)`). Added rules are not kept here (their caller
    /// describes them from its plan): a full program's thousands of texts cost MiBs at the peak
    /// and time to render.
    private var operations: [(seq: UInt32, operation: NFTBatchOperation)] = []
    private(set) var lastSeq: UInt32 = 0
    private var seq: UInt32
    let family: UInt16
    private let scratch: UnsafeMutableRawPointer
    /// One message at most: the largest (an element chunk) stays under 64 KiB.
    private static let scratchSize = 128 << 10
    static let chunkSize = 256 << 10
    /// Where the last message added (not begin/end) starts: chunk index and offset.
    private var lastMessage: (chunk: Int, offset: Int)?

    init(family: NFTFamily, firstSeq: UInt32) {
        self.family = UInt16(family.number)
        self.seq = firstSeq
        scratch = UnsafeMutableRawPointer.allocate(byteCount: Self.scratchSize, alignment: 16)
        beginSeq = seq &+ 1
        appendRaw(nftnl_batch_begin(scratch.assumingMemoryBound(to: CChar.self), nextSeq()))
    }

    deinit { scratch.deallocate() }

    /// The batch-begin message's sequence number (the kernel blames it for malformed batches).
    let beginSeq: UInt32

    private func nextSeq() -> UInt32 {
        seq &+= 1
        return seq
    }

    @discardableResult
    private func appendRaw(_ nlh: UnsafeMutablePointer<nlmsghdr>?) -> (chunk: Int, offset: Int)? {
        guard let nlh else { return nil }
        let len = Int(nlh.pointee.nlmsg_len)
        let padded = (len + 3) & ~3
        if chunks.isEmpty || chunks[chunks.count - 1].count + padded > Self.chunkSize {
            var chunk: [UInt8] = []
            chunk.reserveCapacity(max(Self.chunkSize, padded))
            chunks.append(chunk)
        }
        let at = (chunks.count - 1, chunks[chunks.count - 1].count)
        chunks[at.0].append(contentsOf: UnsafeRawBufferPointer(start: UnsafeRawPointer(nlh), count: len))
        if padded > len { chunks[at.0].append(contentsOf: repeatElement(0, count: padded - len)) }
        return at
    }

    /// Appends one message; `payload` fills in its attributes. Returns its sequence number.
    /// A nil `operation` leaves the message's description to the caller.
    @discardableResult
    func add(_ type: nf_tables_msg_types, flags: Int32, _ operation: NFTBatchOperation?,
             payload: (UnsafeMutablePointer<nlmsghdr>) -> Void) -> UInt32 {
        let s = nextSeq()
        guard let nlh = nftnl_nlmsg_build_hdr(scratch.assumingMemoryBound(to: CChar.self), UInt16(type.rawValue),
                                              family, UInt16(flags), s) else { return s }
        payload(nlh)
        if let operation { operations.append((s, operation)) }
        lastSeq = s
        lastMessage = appendRaw(nlh)
        return s
    }

    /// The description of message `seq`; nil if it has none (an added rule).
    func operation(seq: UInt32) -> String? {
        // Sequence numbers rise in `operations` but may wrap: compare offsets from the begin.
        let offset = seq &- beginSeq
        var low = 0, high = operations.count
        while low < high {
            let mid = (low + high) / 2
            if operations[mid].seq &- beginSeq < offset { low = mid + 1 } else { high = mid }
        }
        guard low < operations.count, operations[low].seq == seq else { return nil }
        return operations[low].operation.description
    }

    /// Closes the batch, asking for an ACK on its last message: the kernel answers every message
    /// with errors (if any) and then that one, so its answer marks the end.
    func finish() -> [[UInt8]] {
        if let (c, offset) = lastMessage {
            // Set NLM_F_ACK on the last message in place: flags sit at offset 6 of its header.
            let flags = (UInt16(chunks[c][offset + 6]) | UInt16(chunks[c][offset + 7]) << 8) | UInt16(NLM_F_ACK)
            chunks[c][offset + 6] = UInt8(flags & 0xff)
            chunks[c][offset + 7] = UInt8(flags >> 8)
        }
        appendRaw(nftnl_batch_end(scratch.assumingMemoryBound(to: CChar.self), nextSeq()))
        return chunks
    }
}

/// Owned libnftnl objects, freed on scope exit.
enum NFTObjects {
    static func withRule<T>(_ body: (OpaquePointer) throws -> T) rethrows -> T {
        let r = nftnl_rule_alloc()!
        defer { nftnl_rule_free(r) }
        return try body(r)
    }

    static func withChain<T>(_ body: (OpaquePointer) throws -> T) rethrows -> T {
        let c = nftnl_chain_alloc()!
        defer { nftnl_chain_free(c) }
        return try body(c)
    }

    static func withSet<T>(_ body: (OpaquePointer) throws -> T) rethrows -> T {
        let s = nftnl_set_alloc()!
        defer { nftnl_set_free(s) }
        return try body(s)
    }

    static func withTable<T>(_ body: (OpaquePointer) throws -> T) rethrows -> T {
        let t = nftnl_table_alloc()!
        defer { nftnl_table_free(t) }
        return try body(t)
    }

    static func setData(_ bytes: [UInt8], _ body: (UnsafeRawPointer, UInt32) -> Void) {
        bytes.withUnsafeBytes { body($0.baseAddress!, UInt32($0.count)) }
    }
}

/// What a batch message does, kept compact (names are shared with the plan, not copied into a
/// new string per message) and rendered as text only for an error message.
enum NFTBatchOperation: CustomStringConvertible {
    /// A rare operation, described up front.
    case text(String)
    /// `<verb> <object> <name>`, e.g. "add chain cali-fw-x".
    case named(NFTBatchVerb, NFTBatchObject, String)
    /// "add 400 elements of <set>".
    case elements(NFTBatchVerb, count: UInt16, set: String)

    var description: String {
        switch self {
        case .text(let s): s
        case .named(let verb, let object, let name): "\(verb.rawValue) \(object.rawValue) \(name)"
        case .elements(let verb, let count, let set): "\(verb.rawValue) \(count) elements of \(set)"
        }
    }
}

enum NFTBatchVerb: String { case add, update, delete, flush }
enum NFTBatchObject: String { case table, chain, set, map }
