/// A parsed Calico label selector (the language of policy `selector`, rule `selector` and
/// `namespaceSelector`, IPPool and BGPPeer `nodeSelector`).
///
/// The tree mirrors Calico's: `&&` and `||` are n-ary, a run of `!` collapses to at most one
/// `.not`, and parentheses leave no node of their own. `SelectorExpr.parse(_:)` builds it,
/// `description` prints its canonical form (which parses back to an equal tree) and
/// `matches(labels:)` evaluates it.
public indirect enum SelectorExpr: Sendable, Hashable {
    /// `all()`, and also the empty selector: matches everything.
    case all
    /// `global()`: matches only resources that are not namespaced (the evaluation context says so).
    case global
    /// `has(key)`: the label is present, with any value.
    case has(String)
    /// `key == "value"`.
    case equals(String, String)
    /// `key != "value"`; also true when the label is absent.
    case notEquals(String, String)
    /// `key contains "s"`; false when the label is absent.
    case contains(String, String)
    /// `key starts with "s"`; false when the label is absent.
    case startsWith(String, String)
    /// `key ends with "s"`; false when the label is absent.
    case endsWith(String, String)
    /// `key in {"a", "b"}`; the parser keeps the values sorted and unique.
    case isIn(String, [String])
    /// `key not in {"a", "b"}`; also true when the label is absent.
    case notIn(String, [String])
    /// `!expr`.
    case not(SelectorExpr)
    /// `a && b && ...` (two or more operands when parsed).
    case and([SelectorExpr])
    /// `a || b || ...` (two or more operands when parsed).
    case or([SelectorExpr])
}

extension SelectorExpr {
    /// `key in {values}` with the values sorted and de-duplicated, as the parser makes it.
    public static func oneOf(_ key: String, _ values: some Sequence<String>) -> SelectorExpr {
        .isIn(key, canonicalSet(values))
    }

    /// `key not in {values}` with the values sorted and de-duplicated, as the parser makes it.
    public static func noneOf(_ key: String, _ values: some Sequence<String>) -> SelectorExpr {
        .notIn(key, canonicalSet(values))
    }

    /// The negation, without stacking: `!!x` is `x`.
    public var negated: SelectorExpr {
        if case .not(let inner) = self { return inner }
        return .not(self)
    }

    /// The conjunction of `terms`, dropping `all()` terms: no term gives `all()`, one term gives
    /// itself, several give one `.and` (the shape Calico's KDD conversion produces).
    public static func allOf(_ terms: [SelectorExpr]) -> SelectorExpr {
        let kept = terms.filter { $0 != .all }
        switch kept.count {
        case 0: return .all
        case 1: return kept[0]
        default: return .and(kept)
        }
    }

    static func canonicalSet(_ values: some Sequence<String>) -> [String] {
        // Sorted by UTF-8 bytes (as Go sorts strings) so the canonical text matches Calico's.
        Array(Set(values)).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}
