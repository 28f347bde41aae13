import Core
import XCTest
@testable import Policy

/// Checks the incremental renderer's element deltas against what it rendered: each is exactly
/// the difference between the set before and after, of a set that kept its kind, is named as
/// changed, and the differ planning with them plans the same elements as comparing every set
/// whole.
enum ElementDeltaCheck {
    /// Nil when the deltas are right; else what is wrong.
    static func problem(previous: NFTRuleset, got: NFTRuleset, changed: Set<String>?, deltas: [String: NFTSetDelta]) -> String? {
        guard let changed else { return deltas.isEmpty ? nil : "deltas after a full render" }
        for (name, delta) in deltas.sorted(by: { $0.key < $1.key }) {
            guard changed.contains(name) else { return "\(name): a delta not named as changed" }
            if let before = previous.maps[name] {
                // A dispatch map's delta: the interfaces whose elements came and went.
                guard let after = got.maps[name] else { return "\(name): a delta for a map dropped" }
                let added = Set(delta.added.compactMap { if case .ifname(let k) = $0 { k } else { nil } })
                let removed = Set(delta.removed.compactMap { if case .ifname(let k) = $0 { k } else { nil } })
                guard added.count == delta.added.count, removed.count == delta.removed.count,
                      removed.isSubset(of: before.elements.keys), added.isDisjoint(with: before.elements.keys) else {
                    return "\(name): the map delta is not relative to the previous map"
                }
                guard Set(before.elements.keys).subtracting(removed).union(added) == Set(after.elements.keys) else {
                    return "\(name): the previous map and the delta are not the map rendered"
                }
                continue
            }
            guard let before = previous.sets[name], let after = got.sets[name] else { return "\(name): a delta for a set made or dropped" }
            guard delta.removed.isSubset(of: before.elements), delta.added.isDisjoint(with: before.elements) else {
                return "\(name): the delta is not relative to the previous set"
            }
            guard before.elements.subtracting(delta.removed).union(delta.added) == after.elements else {
                return "\(name): the previous set and the delta are not the set rendered"
            }
            guard before.type == after.type, before.interval == after.interval else { return "\(name): a delta for a set of another kind" }
        }
        let state = NFTProgrammedState.assuming(previous)
        let fast = NFTDiff.plan(from: state, to: got, previous: got, changed: changed, deltas: deltas)
        let whole = NFTDiff.plan(from: state, to: got)
        guard fast.addMapElements == whole.addMapElements, fast.deleteMapElements == whole.deleteMapElements else {
            return "the plan with deltas differs from the whole comparison in map elements"
        }
        guard fast.addSetElements == whole.addSetElements, fast.deleteSetElements == whole.deleteSetElements else {
            let names = Set(fast.addSetElements.keys).union(whole.addSetElements.keys).union(fast.deleteSetElements.keys)
                .union(whole.deleteSetElements.keys)
                .filter { fast.addSetElements[$0] != whole.addSetElements[$0] || fast.deleteSetElements[$0] != whole.deleteSetElements[$0] }
            return "the plan with deltas differs from the whole comparison in \(names.sorted())"
        }
        return nil
    }
}
