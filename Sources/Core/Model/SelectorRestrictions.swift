/// What a selector needs of one label for it to match: the facts a label index uses to find
/// candidate endpoints without evaluating every selector against every endpoint.
public struct SelectorLabelRestriction: Sendable, Hashable {
    /// The label must be present (`has(k)`, `k == 'v'`, `k in {...}`, `k contains 's'`, ...).
    public var mustBePresent: Bool
    /// The label must be absent (`!has(k)`).
    public var mustBeAbsent: Bool
    /// If not nil, the label's value must be one of these. An empty set means the selector can
    /// never match (e.g. `a == 'x' && a == 'y'`).
    public var mustHaveOneOf: Set<String>?

    public init(mustBePresent: Bool = false, mustBeAbsent: Bool = false, mustHaveOneOf: Set<String>? = nil) {
        self.mustBePresent = mustBePresent
        self.mustBeAbsent = mustBeAbsent
        self.mustHaveOneOf = mustHaveOneOf
    }
}

extension SelectorExpr {
    /// Every label key the selector reads: a change to any other label cannot change its result.
    public var labelKeys: Set<String> {
        var keys: Set<String> = []
        collectKeys(into: &keys)
        return keys
    }

    private func collectKeys(into keys: inout Set<String>) {
        switch self {
        case .all, .global:
            break
        case .has(let key), .equals(let key, _), .notEquals(let key, _), .contains(let key, _),
             .startsWith(let key, _), .endsWith(let key, _), .isIn(let key, _), .notIn(let key, _):
            keys.insert(key)
        case .not(let operand):
            operand.collectKeys(into: &keys)
        case .and(let operands), .or(let operands):
            for operand in operands { operand.collectKeys(into: &keys) }
        }
    }

    /// Necessary conditions on individual labels: every labels set that matches satisfies each
    /// entry (the converse need not hold). Keys with no such condition are left out.
    public var labelRestrictions: [String: SelectorLabelRestriction] {
        switch self {
        case .all, .global, .notEquals, .notIn:
            return [:]
        case .has(let key), .contains(let key, _), .startsWith(let key, _), .endsWith(let key, _):
            return [key: SelectorLabelRestriction(mustBePresent: true)]
        case .equals(let key, let value):
            return [key: SelectorLabelRestriction(mustBePresent: true, mustHaveOneOf: [value])]
        case .isIn(let key, let values):
            return [key: SelectorLabelRestriction(mustBePresent: true, mustHaveOneOf: Set(values))]
        case .not(let operand):
            // Only !has(k) says something definite; !(k == 'v') holds with or without k.
            if case .has(let key) = operand { return [key: SelectorLabelRestriction(mustBeAbsent: true)] }
            return [:]
        case .and(let operands):
            return operands.reduce(into: [:]) { merged, operand in
                for (key, restriction) in operand.labelRestrictions {
                    merged[key] = Self.both(merged[key], restriction)
                }
            }
        case .or(let operands):
            guard let first = operands.first else { return [:] }
            return operands.dropFirst().reduce(first.labelRestrictions) { merged, operand in
                let other = operand.labelRestrictions
                return merged.compactMapValuesWithKeys { key, restriction in
                    Self.either(restriction, other[key])
                }
            }
        }
    }

    /// Both restrictions hold (conjunction).
    private static func both(_ lhs: SelectorLabelRestriction?, _ rhs: SelectorLabelRestriction) -> SelectorLabelRestriction {
        guard let lhs else { return rhs }
        var values = lhs.mustHaveOneOf
        if let rhsValues = rhs.mustHaveOneOf { values = values?.intersection(rhsValues) ?? rhsValues }
        return SelectorLabelRestriction(mustBePresent: lhs.mustBePresent || rhs.mustBePresent,
                                        mustBeAbsent: lhs.mustBeAbsent || rhs.mustBeAbsent,
                                        mustHaveOneOf: values)
    }

    /// One of the restrictions holds (disjunction); nil when nothing definite remains.
    private static func either(_ lhs: SelectorLabelRestriction, _ rhs: SelectorLabelRestriction?) -> SelectorLabelRestriction? {
        guard let rhs else { return nil }
        let present = lhs.mustBePresent && rhs.mustBePresent
        let absent = lhs.mustBeAbsent && rhs.mustBeAbsent
        var values: Set<String>?
        if present, let l = lhs.mustHaveOneOf, let r = rhs.mustHaveOneOf { values = l.union(r) }
        guard present || absent else { return nil }
        return SelectorLabelRestriction(mustBePresent: present, mustBeAbsent: absent, mustHaveOneOf: values)
    }
}

extension Dictionary {
    fileprivate func compactMapValuesWithKeys<T>(_ transform: (Key, Value) -> T?) -> [Key: T] {
        var out: [Key: T] = [:]
        for (key, value) in self {
            if let mapped = transform(key, value) { out[key] = mapped }
        }
        return out
    }
}
