import Core
import Foundation
import Policy
import XCTest

/// Added rules' handles come from the kernel's echo of the commit: the programmer's view after a
/// structural change equals what a fresh read finds, without reading anything back.
final class NFTEchoTests: XCTestCase {
    private func fresh(_ ns: NetNamespace) throws -> NFTProgrammedState {
        try NFTProgrammer(namespace: ns).readProgrammed()
    }

    func testAddedRuleHandlesComeFromTheCommitAndTheRuleDeletesAgain() throws {
        try KernelFixture.withNamespaces(1) { spaces in
            let nft = try NFTProgrammer(namespace: spaces[0])
            try nft.apply(NFTablesTests.sample())
            // A small program from nothing is echoed whole: nothing left to read.
            XCTAssertEqual(nft.lastStats.rulesEchoed, NFTablesTests.sample().ruleCount)
            XCTAssertEqual(nft.cachedState?.unreadChains, [])
            XCTAssertEqual(nft.cachedState?.state, try fresh(spaces[0]))

            // A rule inserted in the middle of a policy chain (before a kept rule's handle).
            let added = NFTablesTests.sample(extraRule: true)
            let plan = try nft.apply(added, changed: ["cali-pi-web"])
            XCTAssertEqual(plan.addRules.count, 1)
            XCTAssertNotNil(plan.addRules.first?.beforeHandle)
            XCTAssertEqual(nft.lastStats.rulesEchoed, 1)
            XCTAssertEqual(nft.lastStats.chainsRead, 0)
            let cached = try XCTUnwrap(nft.cachedState)
            XCTAssertEqual(cached.unreadChains, [])
            let kernel = try fresh(spaces[0])
            XCTAssertEqual(cached.state, kernel)
            let newHandle = try XCTUnwrap(kernel.chains["cali-pi-web"]?.rules[1].handle)
            XCTAssertEqual(cached.state.chains["cali-pi-web"]?.rules[1].identity, added.chains["cali-pi-web"]!.rules[1].identity)

            // Removing it again deletes that handle, still with nothing read back.
            let back = try nft.apply(NFTablesTests.sample(), changed: ["cali-pi-web"])
            XCTAssertEqual(back.deleteRules.map(\.handle), [newHandle])
            XCTAssertEqual(back.addRules.count, 0)
            XCTAssertEqual(nft.lastStats.chainsRead, 0)
            XCTAssertEqual(nft.cachedState?.state, try fresh(spaces[0]))
            XCTAssertEqual(try fresh(spaces[0]).chains["cali-pi-web"]?.rules.map(\.identity),
                           NFTablesTests.sample().chains["cali-pi-web"]!.rules.map(\.identity))

            // A new chain with its rules, appended in one batch.
            var withChain = NFTablesTests.sample()
            withChain.add(NFTChain(name: "cali-echo-new", rules: [NFTRule([.l4proto(6)], verdict: .accept), NFTRule(verdict: .drop)]))
            try nft.apply(withChain, changed: ["cali-echo-new"])
            XCTAssertEqual(nft.lastStats.rulesEchoed, 2)
            XCTAssertEqual(nft.cachedState?.state, try fresh(spaces[0]))
        }
    }

    /// Without echoes (a batch over the limit) the chain is read when next diffed, and the
    /// result is the same.
    func testWithoutEchoTheChainIsReadWhenNextNeeded() throws {
        try KernelFixture.withNamespaces(1) { spaces in
            var nft = try NFTProgrammer(namespace: spaces[0])
            nft.echoLimit = 0
            try nft.apply(NFTablesTests.sample())
            XCTAssertEqual(nft.lastStats.rulesEchoed, 0)
            XCTAssertEqual(nft.cachedState?.unreadChains, Set(NFTablesTests.sample().chains.values.filter { !$0.rules.isEmpty }.map(\.name)))
            try nft.apply(NFTablesTests.sample(extraRule: true), changed: ["cali-pi-web"])
            XCTAssertEqual(nft.lastStats.chainsRead, 1)
            XCTAssertEqual(nft.cachedState?.unreadChains.contains("cali-pi-web"), true)
            let back = try nft.apply(NFTablesTests.sample(), changed: ["cali-pi-web"])
            XCTAssertEqual(nft.lastStats.chainsRead, 1)
            XCTAssertEqual(back.deleteRules.count, 1)
            XCTAssertEqual(try fresh(spaces[0]).chains["cali-pi-web"]?.rules.map(\.identity),
                           NFTablesTests.sample().chains["cali-pi-web"]!.rules.map(\.identity))
            nft = try NFTProgrammer(namespace: spaces[0])
            XCTAssertTrue(try nft.apply(NFTablesTests.sample()).isEmpty)
        }
    }

    /// A chain too large to read cheaply later (the shared dispatch after a full program) is
    /// read right after a commit that did not echo it; small chains stay unread until needed.
    func testLargeChainsAreReadRightAfterAnUnechoedCommit() throws {
        try KernelFixture.withNamespaces(1) { spaces in
            let nft = try NFTProgrammer(namespace: spaces[0])
            nft.echoLimit = 0
            var ruleset = NFTablesTests.sample()
            let big = (0..<200).map { NFTRule([.l4proto(6), .port(.tcp, .destination, .eq(UInt16(1000 + $0)))], verdict: .accept) }
            ruleset.add(NFTChain(name: "cali-big", rules: big))
            try nft.apply(ruleset)
            XCTAssertEqual(nft.lastStats.chainsRead, 1)
            let cached = try XCTUnwrap(nft.cachedState)
            XCTAssertFalse(cached.unreadChains.contains("cali-big"))
            XCTAssertTrue(cached.unreadChains.contains("cali-pi-web"), "small chains wait until a diff needs them")
            XCTAssertEqual(cached.state.chains["cali-big"], try fresh(spaces[0]).chains["cali-big"])

            // The next edit of the large chain reads nothing and deletes the right rule.
            ruleset.chains["cali-big"]!.rules.remove(at: 100)
            let plan = try nft.apply(ruleset, changed: ["cali-big"])
            XCTAssertEqual(nft.lastStats.chainsRead, 0)
            XCTAssertEqual(plan.deleteRules.count, 1)
            XCTAssertEqual(plan.addRules.count, 0)
            XCTAssertEqual(try fresh(spaces[0]).chains["cali-big"]?.rules.map(\.identity), ruleset.chains["cali-big"]!.rules.map(\.identity))
        }
    }
}
