@testable import Policy
import XCTest

/// How the encoder names the set an element message goes to: a set made in the same batch by
/// its batch id alone (the kernel walks every set of the table comparing names before it tries
/// an id, ~70 us at 1,466 sets), a set already in the kernel by its name.
final class NFTPlanEncoderTests: XCTestCase {
    // linux/netfilter/nfnetlink.h and nf_tables.h
    private static let newSetElem = UInt16(10 << 8 | 12)   // NFNL_SUBSYS_NFTABLES, NFT_MSG_NEWSETELEM
    private static let newSet = UInt16(10 << 8 | 9)        // NFT_MSG_NEWSET
    private static let listSet: UInt16 = 2                  // NFTA_SET_ELEM_LIST_SET
    private static let listSetID: UInt16 = 4                // NFTA_SET_ELEM_LIST_SET_ID
    private static let setName: UInt16 = 2                  // NFTA_SET_NAME
    private static let setID: UInt16 = 10                   // NFTA_SET_ID

    func testElementsOfASetMadeInTheBatchNameItByIdAndOthersByName() throws {
        var plan = NFTPlan(table: "calico", family: .inet)
        plan.addSets = [NFTSet(name: "v-new", type: .inetService, elements: [.port(80)])]
        plan.addSetElements = ["v-new": [NFTKeyElement(key: [0, 80])], "s-old": [NFTKeyElement(key: [0, 81])]]
        plan.addChains = [NFTChain(name: "c", rules: [])]
        // A rule with an anonymous set: its elements go by id as well.
        plan.addRules = [NFTPlan.RuleInsert(chain: "c", rule: NFTRule([.port(.udp, .destination, .anyOf([53...53, 5000...5100]))],
                                                                      verdict: .accept))]
        let batch = NFTBatch(family: .inet, firstSeq: 1)
        var encoder = NFTPlanEncoder(table: "calico", family: .inet, batch: batch)
        encoder.encode(plan)
        let messages = Self.messages(batch.finish())

        // Each new set's id, by name, from its NEWSET message.
        var idOfSet: [String: UInt32] = [:]
        for m in messages where m.type == Self.newSet {
            let name = try XCTUnwrap(m.string(Self.setName)), id = try XCTUnwrap(m.u32(Self.setID))
            idOfSet[name] = id
        }
        XCTAssertEqual(idOfSet.count, 2, "v-new and the rule's anonymous set: \(idOfSet)")
        let elements = messages.filter { $0.type == Self.newSetElem }
        XCTAssertEqual(elements.count, 3)
        for m in elements {
            if let name = m.string(Self.listSet) {
                XCTAssertEqual(name, "s-old", "only a set not made in this batch is named")
                XCTAssertNil(m.u32(Self.listSetID))
            } else {
                let id = try XCTUnwrap(m.u32(Self.listSetID), "an element message names its set somehow")
                XCTAssertTrue(idOfSet.values.contains(id), "id \(id) is one of this batch's new sets \(idOfSet)")
            }
        }
        XCTAssertEqual(Set(elements.compactMap { $0.u32(Self.listSetID) }), Set(idOfSet.values))
    }

    /// One netlink message of a batch: type and top-level attributes (after the nfgenmsg).
    private struct Message {
        var type: UInt16
        var attributes: [UInt16: [UInt8]]
        func string(_ attribute: UInt16) -> String? {
            attributes[attribute].map { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        func u32(_ attribute: UInt16) -> UInt32? {   // big-endian on the wire
            guard let b = attributes[attribute], b.count == 4 else { return nil }
            return b.reduce(0) { $0 << 8 | UInt32($1) }
        }
    }

    private static func messages(_ chunks: [[UInt8]]) -> [Message] {
        func le16(_ b: [UInt8], _ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
        func le32(_ b: [UInt8], _ i: Int) -> Int { le16(b, i) | le16(b, i + 2) << 16 }
        var out: [Message] = []
        for bytes in chunks {
            var at = 0
            while at + 16 <= bytes.count {
                let length = le32(bytes, at), type = UInt16(le16(bytes, at + 4))
                guard length >= 16 else { break }
                var attributes: [UInt16: [UInt8]] = [:]
                var a = at + 16 + 4   // nlmsghdr, nfgenmsg
                while a + 4 <= at + length {
                    let alen = le16(bytes, a), atype = UInt16(le16(bytes, a + 2)) & 0x3fff
                    guard alen >= 4, a + alen <= at + length else { break }
                    attributes[atype] = Array(bytes[(a + 4)..<(a + alen)])
                    a += (alen + 3) & ~3
                }
                out.append(Message(type: type, attributes: attributes))
                at += (length + 3) & ~3
            }
        }
        return out
    }
}
