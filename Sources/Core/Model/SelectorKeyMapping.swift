extension SelectorExpr {
    /// The same selector with every label key passed through `transform` (values untouched).
    public func mappingKeys(_ transform: (String) -> String) -> SelectorExpr {
        switch self {
        case .all, .global: return self
        case .has(let key): return .has(transform(key))
        case .equals(let key, let value): return .equals(transform(key), value)
        case .notEquals(let key, let value): return .notEquals(transform(key), value)
        case .contains(let key, let value): return .contains(transform(key), value)
        case .startsWith(let key, let value): return .startsWith(transform(key), value)
        case .endsWith(let key, let value): return .endsWith(transform(key), value)
        case .isIn(let key, let values): return .isIn(transform(key), values)
        case .notIn(let key, let values): return .notIn(transform(key), values)
        case .not(let operand): return .not(operand.mappingKeys(transform))
        case .and(let operands): return .and(operands.map { $0.mappingKeys(transform) })
        case .or(let operands): return .or(operands.map { $0.mappingKeys(transform) })
        }
    }

    /// The same selector with `prefix` put before every label key, as felix does to a rule's
    /// `namespaceSelector` (prefix `pcns.`, matched against the namespace profile's labels) and
    /// to a service-account selector (prefix `pcsa.`).
    public func prefixingKeys(with prefix: String) -> SelectorExpr {
        mappingKeys { prefix + $0 }
    }
}

/// Label-key prefixes of the Kubernetes datastore's profiles.
public enum SelectorLabelPrefix {
    /// Namespace labels as the `kns.<ns>` profile offers them.
    public static let namespace = "pcns."
    /// Service-account labels as the `ksa.<ns>.<sa>` profile offers them.
    public static let serviceAccount = "pcsa."
}
