import CCalicoSystem
import Core
import XCTest
@testable import Policy

/// The programmer's view after a commit: echoed handles put added rules in place; chains with an
/// added rule of unknown handle are left for a read.
final class NFTProgrammedUpdateTests: XCTestCase {
    private func rule(_ port: UInt16) -> NFTRule { NFTRule([.port(.tcp, .destination, .eq(port))], verdict: .accept) }

    private func state(_ chains: [String: [(UInt64, NFTRule)]]) -> NFTProgrammedState {
        var s = NFTProgrammedState(tableExists: true)
        for (name, rules) in chains {
            s.chains[name] = .init(base: nil, rules: rules.map { .init(handle: $0.0, identity: $0.1.identity) })
        }
        return s
    }

    func testEchoedInsertsLandBeforeTheirRuleAndAppendsAtTheEnd() {
        var s = state(["c": [(1, rule(1)), (2, rule(2)), (3, rule(3))]])
        var plan = NFTPlan(table: "calico", family: .inet)
        plan.deleteRules = [.init(chain: "c", handle: 2)]
        plan.addRules = [.init(chain: "c", rule: rule(10), beforeHandle: 3), .init(chain: "c", rule: rule(11), beforeHandle: 3),
                         .init(chain: "c", rule: rule(12), beforeHandle: nil)]
        let unread = s.apply(plan, handles: [7, 8, 9])
        XCTAssertEqual(unread, [])
        XCTAssertEqual(s, state(["c": [(1, rule(1)), (7, rule(10)), (8, rule(11)), (3, rule(3)), (9, rule(12))]]))
    }

    func testUnknownHandleLeavesOnlyItsChainUnread() {
        var s = state(["a": [(1, rule(1))], "b": [(2, rule(2))]])
        var plan = NFTPlan(table: "calico", family: .inet)
        plan.addRules = [.init(chain: "a", rule: rule(5), beforeHandle: nil), .init(chain: "b", rule: rule(6), beforeHandle: 2)]
        XCTAssertEqual(s.apply(plan, handles: [nil, 4]), ["a"])
        XCTAssertEqual(s.chains["b"]?.rules.map(\.handle), [4, 2])
        // No handles at all (echo not asked): every chain with an added rule.
        var t = state(["a": [(1, rule(1))]])
        XCTAssertEqual(t.apply(plan), ["a", "b"])
    }

    func testNewChainGetsItsEchoedRules() {
        var s = NFTProgrammedState(tableExists: true)
        var plan = NFTPlan(table: "calico", family: .inet)
        plan.addChains = [NFTChain(name: "n", rules: [rule(1)])]
        plan.addRules = [.init(chain: "n", rule: rule(1), beforeHandle: nil)]
        XCTAssertEqual(s.apply(plan, handles: [42]), [])
        XCTAssertEqual(s, state(["n": [(42, rule(1))]]))
    }

    /// The handle is read from the attributes of an echoed rule message as the kernel builds it.
    func testRuleHandleFromEchoedMessage() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let handle: UInt64? = buffer.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
            guard let nlh = nftnl_nlmsg_build_hdr(base, UInt16(NFT_MSG_NEWRULE.rawValue), UInt16(NFPROTO_INET), 0, 5) else { return nil }
            let r = nftnl_rule_alloc()!
            defer { nftnl_rule_free(r) }
            nftnl_rule_set_str(r, UInt16(NFTNL_RULE_TABLE.rawValue), "calico")
            nftnl_rule_set_str(r, UInt16(NFTNL_RULE_CHAIN.rawValue), "a-chain-name")
            nftnl_rule_set_u64(r, UInt16(NFTNL_RULE_HANDLE.rawValue), 0x1_0000_0042)
            nftnl_rule_nlmsg_build_payload(nlh, r)
            XCTAssertTrue(NFTEcho.isNewRule(UnsafePointer(nlh)))
            return NFTEcho.ruleHandle(UnsafePointer(nlh))
        }
        XCTAssertEqual(handle, 0x1_0000_0042)
    }
}
