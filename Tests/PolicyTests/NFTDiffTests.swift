import Core
import XCTest
@testable import Policy

final class NFTDiffTests: XCTestCase {
    private func rule(_ port: UInt16) -> NFTRule { NFTRule([.port(.tcp, .destination, .eq(port))], verdict: .accept) }

    private func ruleset(_ ports: [UInt16], setType: NFTSetType = .ipv4Addr, policy: NFTChainPolicy = .accept,
                         map: [String: NFTVerdict] = ["cali1": .jump("c")]) -> NFTRuleset {
        NFTRuleset(chains: [NFTChain(name: "c", rules: ports.map(rule) + [NFTRule([.addrInSet(.source, ipv6: false, set: "s")], verdict: .drop)]),
                            NFTChain(name: "in", base: NFTBaseChain(hook: .input, policy: policy), rules: [NFTRule(verdict: .vmapIifname("m"))])],
                   sets: [NFTSet(name: "s", type: setType, elements: setType == .ipv4Addr ? [.net(IPNet(parsing: "10.0.0.1")!)] : [])],
                   maps: [NFTVerdictMap(name: "m", elements: map)])
    }

    func testFromNothingCreatesEverything() {
        let rs = ruleset([80, 443])
        let plan = NFTDiff.plan(from: NFTProgrammedState(), to: rs)
        XCTAssertTrue(plan.createTable)
        XCTAssertEqual(plan.addChains.map(\.name), ["c", "in"])
        XCTAssertEqual(plan.addSets.map(\.name), ["s"])
        XCTAssertEqual(plan.addMaps, ["m"])
        XCTAssertEqual(plan.addRules.count, 4)
        XCTAssertTrue(plan.addRules.allSatisfy { $0.beforeHandle == nil })
        XCTAssertEqual(plan.addMapElements["m"], ["cali1": .jump("c")])
    }

    func testUnchangedIsEmpty() {
        let rs = ruleset([80, 443])
        XCTAssertTrue(NFTDiff.plan(from: .assuming(rs), to: rs).isEmpty)
    }

    func testInsertGoesBeforeNextKeptRuleAndRemovalDeletesOnlyThatHandle() {
        let old = NFTProgrammedState.assuming(ruleset([80, 443]))
        let handles = old.chains["c"]!.rules.map(\.handle)
        let plan = NFTDiff.plan(from: old, to: ruleset([80, 22, 443]))
        XCTAssertEqual(plan.addRules.map(\.rule), [rule(22)])
        XCTAssertEqual(plan.addRules.first?.beforeHandle, handles[1])
        XCTAssertTrue(plan.deleteRules.isEmpty)
        let removal = NFTDiff.plan(from: old, to: ruleset([443]))
        XCTAssertEqual(removal.deleteRules, [.init(chain: "c", handle: handles[0])])
        XCTAssertTrue(removal.addRules.isEmpty)
        // Reordering keeps the longest ordered run and moves the rest.
        let swap = NFTDiff.plan(from: old, to: ruleset([443, 80]))
        XCTAssertEqual(swap.deleteRules.count, 1)
        XCTAssertEqual(swap.addRules.count, 1)
    }

    func testSetTypeChangeRecreatesSetAndItsRules() {
        let old = NFTProgrammedState.assuming(ruleset([80]))
        let plan = NFTDiff.plan(from: old, to: ruleset([80], setType: .ipv6Addr))
        XCTAssertEqual(plan.deleteSets, ["s"])
        XCTAssertEqual(plan.addSets.map(\.name), ["s"])
        XCTAssertEqual(plan.deleteRules.map(\.handle), [old.chains["c"]!.rules[1].handle])
        XCTAssertEqual(plan.addRules.map(\.rule.body), ["ip saddr @s drop"])
    }

    func testMapElementsAndPolicyChangeInPlace() {
        let old = NFTProgrammedState.assuming(ruleset([80]))
        let plan = NFTDiff.plan(from: old, to: ruleset([80], policy: .drop, map: ["cali1": .goto("c"), "cali2": .jump("c")]))
        XCTAssertEqual(plan.deleteMapElements["m"], ["cali1"])
        XCTAssertEqual(plan.addMapElements["m"], ["cali1": .goto("c"), "cali2": .jump("c")])
        XCTAssertEqual(plan.updateChains.map(\.name), ["in"])
        XCTAssertTrue(plan.addRules.isEmpty && plan.deleteRules.isEmpty && plan.addChains.isEmpty)
    }

    func testGoneAndForeignObjectsAreRemoved() {
        var old = NFTProgrammedState.assuming(ruleset([80]))
        old.chains["old"] = .init(base: nil, rules: [.init(handle: 99, identity: nil)])
        old.chains["c"]!.rules.append(.init(handle: 100, identity: nil))
        old.sets["gone"] = .init(type: .inetService, interval: false)
        let plan = NFTDiff.plan(from: old, to: ruleset([80]))
        XCTAssertEqual(plan.flushChains, ["old"])
        XCTAssertEqual(plan.deleteChains, ["old"])
        XCTAssertEqual(plan.deleteRules, [.init(chain: "c", handle: 100)])
        XCTAssertEqual(plan.deleteSets, ["gone"])
        XCTAssertTrue(plan.description.contains("delete chain old"))
    }

    func testPreviousRulesetSkipsEqualPartsButNotChangedOnes() {
        let rs = ruleset([80, 443])
        let old = NFTProgrammedState.assuming(rs)
        let changed = ruleset([80, 22, 443])
        XCTAssertEqual(NFTDiff.plan(from: old, to: changed, previous: rs), NFTDiff.plan(from: old, to: changed))
        // Equal parts are trusted to be in sync: a drifted kernel is only seen without `previous`.
        var drifted = old
        drifted.chains["c"]!.rules.removeLast()
        XCTAssertTrue(NFTDiff.plan(from: drifted, to: rs, previous: rs).isEmpty)
        XCTAssertEqual(NFTDiff.plan(from: drifted, to: rs).addRules.count, 1)
        // A recreated set still re-adds the rules that name it, even in unchanged chains.
        let retyped = ruleset([80, 443], setType: .ipv6Addr)
        XCTAssertEqual(NFTDiff.plan(from: old, to: retyped, previous: rs), NFTDiff.plan(from: old, to: retyped))
    }

    /// The chain `plan` leaves when applied to `start` (deletes, then inserts in plan order).
    private func applied(_ plan: NFTPlan, to start: [(handle: UInt64, rule: NFTRule)]) -> [NFTRule] {
        var chain = start.filter { r in !plan.deleteRules.contains { $0.handle == r.handle } }
        var next: UInt64 = 1_000_000
        for insert in plan.addRules where insert.chain == "c" {
            next += 1
            let at = insert.beforeHandle.flatMap { h in chain.firstIndex { $0.handle == h } } ?? chain.endIndex
            if insert.beforeHandle != nil { XCTAssertNotEqual(at, chain.endIndex, "insert before a handle that is gone") }
            chain.insert((next, insert.rule), at: at)
        }
        return chain.map(\.rule)
    }

    func testRulesKnownByValueGiveTheDesiredChain() {
        var rng = SystemRandomNumberGenerator()
        for round in 0..<400 {
            let ports = (0..<Int.random(in: 0...30, using: &rng)).map { _ in UInt16.random(in: 1...8, using: &rng) }
            var edited = ports
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                switch Int.random(in: 0...2, using: &rng) {
                case 0: edited.insert(UInt16.random(in: 1...10, using: &rng), at: Int.random(in: 0...edited.count, using: &rng))
                case 1 where !edited.isEmpty: edited.remove(at: Int.random(in: 0..<edited.count, using: &rng))
                default: if !edited.isEmpty { edited[Int.random(in: 0..<edited.count, using: &rng)] = UInt16.random(in: 1...10, using: &rng) }
                }
            }
            let before = ruleset(ports), after = ruleset(edited)
            var state = NFTProgrammedState.assuming(before)
            let start = zip(state.chains["c"]!.rules.map(\.handle), before.chains["c"]!.rules).map { (handle: $0, rule: $1) }
            let hashed = NFTDiff.plan(from: state, to: after)
            // Every rule known, or (odd rounds) all but one in the middle, as after a read back.
            state.learn(before, chains: ["c"])
            if round % 2 == 1, state.chains["c"]!.rules.count > 2 { state.chains["c"]!.rules[state.chains["c"]!.rules.count / 2].known = nil }
            let known = NFTDiff.plan(from: state, to: after)
            XCTAssertEqual(applied(known, to: start), after.chains["c"]!.rules, "\(ports) -> \(edited)")
            XCTAssertEqual(applied(hashed, to: start), after.chains["c"]!.rules)
            XCTAssertLessThanOrEqual(known.addRules.count + known.deleteRules.count, hashed.addRules.count + hashed.deleteRules.count + 2)
        }
        // One rule added or removed mid-chain is one operation, whatever the chain's repeats.
        let base: [UInt16] = [1, 2, 1, 2, 1, 2, 3]
        var state = NFTProgrammedState.assuming(ruleset(base))
        state.learn(ruleset(base), chains: ["c"])
        let added = NFTDiff.plan(from: state, to: ruleset([1, 2, 1, 9, 2, 1, 2, 3]))
        XCTAssertEqual(added.addRules.map(\.rule), [rule(9)])
        XCTAssertEqual(added.addRules.first?.beforeHandle, state.chains["c"]!.rules[3].handle)
        XCTAssertTrue(added.deleteRules.isEmpty)
        let removed = NFTDiff.plan(from: state, to: ruleset([1, 2, 1, 1, 2, 3]))
        XCTAssertEqual(removed.deleteRules, [.init(chain: "c", handle: state.chains["c"]!.rules[3].handle)])
        XCTAssertTrue(removed.addRules.isEmpty)
        // A known rule still changes when it names a recreated set.
        let retyped = NFTDiff.plan(from: state, to: ruleset(base, setType: .ipv6Addr))
        XCTAssertEqual(retyped, NFTDiff.plan(from: .assuming(ruleset(base)), to: ruleset(base, setType: .ipv6Addr)))
        // Knowing values is not part of the state's equality (the kernel's view is handles and identities).
        XCTAssertEqual(state, .assuming(ruleset(base)))
    }

    func testLongestIncreasing() {
        let values: [Int?] = [3, nil, 1, 2, 5, 4]
        let run = NFTDiff.longestIncreasing(values)
        XCTAssertEqual(run.count, 3)
        XCTAssertEqual(run.map { values[$0]! }, run.map { values[$0]! }.sorted())
        XCTAssertEqual(NFTDiff.longestIncreasing([]), [])
        XCTAssertEqual(NFTDiff.longestIncreasing([nil, nil]), [])
    }

    /// A set of interface names is diffed name by name against the kernel's keys: the same plan
    /// as the full comparison, nothing for what the kernel already has or lacks, and what it
    /// holds beyond the desired names deleted.
    func testInterfaceSetDeltaEqualsTheFullComparison() {
        func ifaces(_ range: Range<Int>) -> NFTSet {
            NFTSet(name: "wl", type: .ifname, elements: Set(range.map { NFTSetElement.ifname("cali\($0)") }))
        }
        let before = NFTRuleset(chains: [], sets: [ifaces(0..<100)])
        let after = NFTRuleset(chains: [], sets: [ifaces(1..<101)])
        let state = NFTProgrammedState.assuming(before)
        let fast = NFTDiff.plan(from: state, to: after, previous: before, changed: ["wl"])
        XCTAssertEqual(fast, NFTDiff.plan(from: state, to: after))
        XCTAssertEqual(fast.deleteSetElements["wl"], [NFTKeyElement(key: NFTElementCodec.ifnameKey("cali0"))])
        XCTAssertEqual(fast.addSetElements["wl"], [NFTKeyElement(key: NFTElementCodec.ifnameKey("cali100"))])
        var drifted = state
        drifted.sets["wl"]!.elements.remove(NFTKeyElement(key: NFTElementCodec.ifnameKey("cali0")))
        drifted.sets["wl"]!.elements.insert(NFTKeyElement(key: NFTElementCodec.ifnameKey("cali100")))
        XCTAssertTrue(NFTDiff.plan(from: drifted, to: after, previous: before, changed: ["wl"]).isEmpty)
        // What the kernel holds beyond the desired names goes.
        drifted.sets["wl"]!.elements.insert(NFTKeyElement(key: NFTElementCodec.ifnameKey("foreign")))
        XCTAssertEqual(NFTDiff.plan(from: drifted, to: after, previous: before, changed: ["wl"]).deleteSetElements["wl"],
                       [NFTKeyElement(key: NFTElementCodec.ifnameKey("foreign"))])
        // A name longer than a key falls back to the full comparison (the key keeps 15 bytes).
        let long = NFTRuleset(chains: [], sets: [NFTSet(name: "wl", type: .ifname, elements: [.ifname("cali0123456789abcdef")])])
        XCTAssertEqual(NFTDiff.plan(from: state, to: long, previous: before, changed: ["wl"]), NFTDiff.plan(from: state, to: long))
    }
}
