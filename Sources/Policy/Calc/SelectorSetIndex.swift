import Core

/// Finds the IP sets (or policies) whose selector might match a labels set without evaluating
/// every one: each is filed under one label its selector requires (a value when it requires one
/// of some values, else the key's presence); those with no such label are always candidates.
struct SelectorSetIndex<ID: Hashable & Sendable>: Sendable {
    private var byValue: [String: [String: Set<ID>]] = [:]
    private var byKey: [String: Set<ID>] = [:]
    private var unindexed: Set<ID> = []

    private enum Slot { case values(String, Set<String>), key(String), none }

    /// The narrowest single-label condition: a value list first, then presence; keys in
    /// sorted order so insert and remove agree.
    private static func slot(_ selector: SelectorExpr) -> Slot {
        let restrictions = selector.labelRestrictions
        let keys = restrictions.keys.sorted()
        if let key = keys.first(where: { restrictions[$0]?.mustHaveOneOf != nil }),
           let values = restrictions[key]?.mustHaveOneOf {
            return .values(key, values)
        }
        if let key = keys.first(where: { restrictions[$0]?.mustBePresent == true }) { return .key(key) }
        return .none
    }

    mutating func insert(_ id: ID, selector: SelectorExpr) {
        switch Self.slot(selector) {
        case .values(let key, let values):
            for value in values { byValue[key, default: [:]][value, default: []].insert(id) }
        case .key(let key): byKey[key, default: []].insert(id)
        case .none: unindexed.insert(id)
        }
    }

    mutating func remove(_ id: ID, selector: SelectorExpr) {
        switch Self.slot(selector) {
        case .values(let key, let values):
            for value in values {
                byValue[key]?[value]?.remove(id)
                if byValue[key]?[value]?.isEmpty == true { byValue[key]?[value] = nil }
            }
            if byValue[key]?.isEmpty == true { byValue[key] = nil }
        case .key(let key):
            byKey[key]?.remove(id)
            if byKey[key]?.isEmpty == true { byKey[key] = nil }
        case .none: unindexed.remove(id)
        }
    }

    /// Every set that might match `labels` (a superset of those that do).
    func candidates(_ labels: [String: String]) -> Set<ID> {
        var out = unindexed
        for (key, value) in labels {
            if let sets = byKey[key] { out.formUnion(sets) }
            if let sets = byValue[key]?[value] { out.formUnion(sets) }
        }
        return out
    }

    /// The members that might match `selector`, from an index of members by label.
    static func candidateMembers(_ selector: SelectorExpr, byLabel: [String: [String: Set<CalcMember>]],
                                 all: @autoclosure () -> Set<CalcMember>) -> Set<CalcMember> {
        restrictedMembers(selector, byLabel: byLabel) ?? all()
    }

    /// The members that might match `selector` when it requires some label; nil when any
    /// member might.
    static func restrictedMembers(_ selector: SelectorExpr, byLabel: [String: [String: Set<CalcMember>]]) -> Set<CalcMember>? {
        switch slot(selector) {
        case .values(let key, let values):
            var out: Set<CalcMember> = []
            for value in values { out.formUnion(byLabel[key]?[value] ?? []) }
            return out
        case .key(let key):
            return (byLabel[key] ?? [:]).values.reduce(into: Set<CalcMember>()) { $0.formUnion($1) }
        case .none:
            return nil
        }
    }
}
