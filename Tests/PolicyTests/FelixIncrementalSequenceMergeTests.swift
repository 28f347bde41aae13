import XCTest
@testable import Policy

/// The dispatch chains are rebuilt whenever an endpoint's plan changes, so their merge must be
/// fast; it must also give exactly the slots of the plain greedy merge it replaced.
final class FelixIncrementalSequenceMergeTests: XCTestCase {
    /// The plain greedy merge (a scan of every head per slot): the reference.
    private func reference(_ lists: [(member: String, keys: [String])]) -> [SequenceMerge.Slot<String>] {
        var position = [Int](repeating: 0, count: lists.count)
        var waiting: [String: Int] = [:]
        var heads: [String: [Int]] = [:]
        for (i, list) in lists.enumerated() {
            for key in list.keys.dropFirst() { waiting[key, default: 0] += 1 }
            if let first = list.keys.first { heads[first, default: []].append(i) }
        }
        var slots: [SequenceMerge.Slot<String>] = []
        var seen: [String: Int] = [:]
        while !heads.isEmpty {
            let key = heads.keys.filter { (waiting[$0] ?? 0) == 0 }.min() ?? heads.keys.min()!
            var slot = SequenceMerge.Slot(key: key, occurrence: seen[key, default: 0], members: [])
            seen[key, default: 0] += 1
            for i in heads.removeValue(forKey: key)!.sorted() {
                slot.members.append((lists[i].member, position[i]))
                position[i] += 1
                if position[i] < lists[i].keys.count {
                    let next = lists[i].keys[position[i]]
                    waiting[next, default: 0] -= 1
                    heads[next, default: []].append(i)
                }
            }
            slots.append(slot)
        }
        return slots
    }

    func testMergeEqualsThePlainGreedyMerge() {
        var g = RNG(state: 4242)
        let universe = (0..<12).map { "k\($0)" }
        for round in 0..<400 {
            // Half the rounds: sublists of one common order (Calico's case); the others: any
            // order, repeats included (lists that disagree).
            let common = universe.shuffled(using: &g)
            let lists: [(member: String, keys: [String])] = (0..<Int.random(in: 0...8, using: &g)).map { m in
                let keys: [String]
                if round % 2 == 0 {
                    keys = common.filter { _ in Bool.random(using: &g) }
                } else {
                    keys = (0..<Int.random(in: 0...6, using: &g)).map { _ in universe.randomElement(using: &g)! }
                }
                return ("m\(m)", keys)
            }
            let got = SequenceMerge.merge(lists), want = reference(lists)
            XCTAssertEqual(got, want, "round \(round): \(lists.map(\.keys))")
            if got != want { return }
            // Every member's list appears in order.
            for (member, keys) in lists {
                let walked = got.flatMap { slot in slot.members.filter { $0.member == member }.map { _ in slot.key } }
                XCTAssertEqual(walked, keys, "round \(round) member \(member)")
            }
        }
    }

    func testMergeAtScaleIsFast() {
        // 1,000 endpoints with 20 of 500 policies each, in one common order.
        let order = (0..<500).map { String(format: "cali-pi-%03d", ($0 * 37) % 500) }
        var lists: [(member: String, keys: [String])] = []
        for e in 0..<1000 {
            let picked: Set<Int> = Set((0..<20).map { (e * 7 + $0 * 23) % 500 })
            lists.append((member: "cali\(e)", keys: picked.sorted().map { order[$0] }))
        }
        let start = ContinuousClock.now
        let slots = SequenceMerge.merge(lists)
        let took = ContinuousClock.now - start
        let plainStart = ContinuousClock.now
        XCTAssertEqual(slots, reference(lists))
        print("merge of 1,000 lists of 20 of 500 keys: \(took); the plain greedy merge: \(ContinuousClock.now - plainStart)")
        XCTAssertEqual(slots.reduce(0) { $0 + $1.members.count }, lists.reduce(0) { $0 + $1.keys.count })
        XCTAssertEqual(slots.count, Set(lists.flatMap { $0.keys }).count, "lists that agree: one slot per key")
        XCTAssertLessThan(took, .milliseconds(500), "a debug build")
    }
}
