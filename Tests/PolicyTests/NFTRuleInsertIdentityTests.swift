@testable import Policy
import XCTest

/// A rule's identity (its text rendered and hashed, ~6 us) is computed once per added rule: the
/// differ puts it in the plan, and the encoder (the rule's comment) and the state update take it
/// from there instead of hashing the rule again.
final class NFTRuleInsertIdentityTests: XCTestCase {
    private func rule(_ port: UInt16, comment: String? = nil) -> NFTRule {
        NFTRule([.port(.tcp, .destination, .eq(port))], verdict: .accept, comment: comment)
    }

    func testTheDiffersInsertsCarryTheirRulesIdentity() {
        let before = NFTRuleset(chains: [NFTChain(name: "c", rules: [rule(1), rule(2)])])
        var after = before
        after.chains["c"]!.rules.insert(rule(3, comment: "mid"), at: 1)
        after.add(NFTChain(name: "n", rules: [rule(4), rule(5)]))
        let plan = NFTDiff.plan(from: .assuming(before), to: after)
        XCTAssertEqual(plan.addRules.map(\.rule), [rule(3, comment: "mid"), rule(4), rule(5)])
        for insert in plan.addRules { XCTAssertEqual(insert.identity, insert.rule.identity) }
        // Without one given, the insert hashes its rule itself.
        XCTAssertEqual(NFTPlan.RuleInsert(chain: "c", rule: rule(6)).identity, rule(6).identity)
    }

    func testTheEncoderWritesTheCarriedIdentityAsTheRulesComment() throws {
        var plan = NFTPlan(table: "calico", family: .inet)
        plan.addRules = [.init(chain: "c", rule: rule(1, comment: "why"), beforeHandle: nil, identity: "00000000000000aa")]
        let batch = NFTBatch(family: .inet, firstSeq: 1)
        var encoder = NFTPlanEncoder(table: "calico", family: .inet, batch: batch)
        encoder.encode(plan)
        let newRule = UInt16(10 << 8 | 6), userdata: UInt16 = 7   // NFT_MSG_NEWRULE, NFTA_RULE_USERDATA
        let rules = Self.attributes(batch.finish()).filter { $0.type == newRule }
        XCTAssertEqual(rules.count, 1)
        let stored = try XCTUnwrap(rules.first?.attributes[userdata].flatMap(NFTRuleUserdata.comment(in:)))
        XCTAssertEqual(stored, "00000000000000aa why")
    }

    func testTheStateUpdateKeepsTheCarriedIdentity() {
        var state = NFTProgrammedState(tableExists: true)
        state.chains["c"] = .init(base: nil)
        var plan = NFTPlan(table: "calico", family: .inet)
        plan.addRules = [.init(chain: "c", rule: rule(1), beforeHandle: nil, identity: "00000000000000bb")]
        XCTAssertEqual(state.apply(plan, handles: [9]), [])
        XCTAssertEqual(state.chains["c"]?.rules, [.init(handle: 9, identity: "00000000000000bb")])
    }

    /// Each message of a batch: its type and top-level attributes (after the nfgenmsg).
    private static func attributes(_ chunks: [[UInt8]]) -> [(type: UInt16, attributes: [UInt16: [UInt8]])] {
        func le16(_ b: [UInt8], _ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
        var out: [(type: UInt16, attributes: [UInt16: [UInt8]])] = []
        for bytes in chunks {
            var at = 0
            while at + 16 <= bytes.count {
                let length = le16(bytes, at) | le16(bytes, at + 2) << 16, type = UInt16(le16(bytes, at + 4))
                guard length >= 16 else { break }
                var attributes: [UInt16: [UInt8]] = [:]
                var a = at + 20   // nlmsghdr, nfgenmsg
                while a + 4 <= at + length {
                    let alen = le16(bytes, a), atype = UInt16(le16(bytes, a + 2)) & 0x3fff
                    guard alen >= 4, a + alen <= at + length else { break }
                    attributes[atype] = Array(bytes[(a + 4)..<(a + alen)])
                    a += (alen + 3) & ~3
                }
                out.append((type, attributes))
                at += (length + 3) & ~3
            }
        }
        return out
    }
}
