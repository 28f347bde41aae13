#if canImport(Glibc)
import Glibc
#endif
import CCalicoSystem

/// The kernel's echo of a rule we added (NLM_F_ECHO on NFT_MSG_NEWRULE): after the commit it
/// sends the new rule back to our socket, under the sequence number of the message that added it,
/// handle included. Reading the handle from there saves dumping the chain back.
enum NFTEcho {
    /// Whether a message is the echo of an added rule.
    static func isNewRule(_ nlh: UnsafePointer<nlmsghdr>) -> Bool {
        Int32(nlh.pointee.nlmsg_type) == (NFNL_SUBSYS_NFTABLES << 8) | Int32(NFT_MSG_NEWRULE.rawValue)
    }

    /// NFTA_RULE_HANDLE of a rule message, found by walking its attributes (the expressions are
    /// not parsed: only the handle is needed). Nil when absent or malformed.
    static func ruleHandle(_ nlh: UnsafePointer<nlmsghdr>) -> UInt64? {
        let total = Int(nlh.pointee.nlmsg_len)
        let raw = UnsafeRawPointer(nlh)
        return ruleHandle(UnsafeRawBufferPointer(start: raw, count: total))
    }

    /// The same over a message's bytes (header, nfgenmsg, attributes).
    static func ruleHandle(_ message: UnsafeRawBufferPointer) -> UInt64? {
        var offset = MemoryLayout<nlmsghdr>.size + MemoryLayout<nfgenmsg>.size
        while offset + 4 <= message.count {
            let len = Int(message.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
            let type = Int32(message.loadUnaligned(fromByteOffset: offset + 2, as: UInt16.self)) & 0x3fff  // without NLA_F_NESTED, NLA_F_NET_BYTEORDER
            guard len >= 4, offset + len <= message.count else { return nil }
            if type == Int32(NFTA_RULE_HANDLE.rawValue) {
                guard len >= 12 else { return nil }
                return UInt64(bigEndian: message.loadUnaligned(fromByteOffset: offset + 4, as: UInt64.self))
            }
            offset += (len + 3) & ~3
        }
        return nil
    }
}
