/// A Kubernetes LabelSelector that has no Calico selector equivalent (the API server rejects
/// all of these, so seeing one means the object bypassed validation).
public enum SelectorConversionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// An operator other than In, NotIn, Exists and DoesNotExist.
    case unknownOperator(key: String, operator: String)
    /// In or NotIn without values.
    case missingValues(key: String, operator: String)
    /// A key with characters outside `[A-Za-z0-9_./-]`, or empty.
    case invalidKey(String)
    /// A value holding both `'` and `"`, which no selector can quote.
    case unquotableValue(key: String, value: String)

    public var description: String {
        switch self {
        case .unknownOperator(let key, let op):
            return "label selector on \"\(key)\" has operator \"\(op)\"; use In, NotIn, Exists or DoesNotExist"
        case .missingValues(let key, let op):
            return "label selector \"\(key) \(op)\" has no values; give at least one value"
        case .invalidKey(let key):
            return "label selector key \"\(key)\" is not a valid label key; use letters, digits and _ . / -"
        case .unquotableValue(let key, let value):
            return "label selector value \"\(value)\" for \"\(key)\" holds both quote characters; remove one"
        }
    }
}

extension SelectorExpr {
    /// The label Calico gives every workload endpoint that Kubernetes orchestrates.
    public static let orchestratorLabel = "projectcalico.org/orchestrator"

    /// The Calico selector equivalent to a Kubernetes LabelSelector, as Calico's KDD conversion
    /// builds it: `matchLabels` terms sorted by key (`k == 'v'`), then each `matchExpressions`
    /// term in order (`k in {...}`, `k not in {...}`, `has(k)`, `!has(k)`), all ANDed. The
    /// empty LabelSelector is `all()`.
    public init(kubernetes selector: LabelSelector) throws(SelectorConversionError) {
        var terms: [SelectorExpr] = []
        let matchLabels = selector.matchLabels ?? [:]
        for key in matchLabels.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            let value = matchLabels[key] ?? ""
            try Self.checkKey(key)
            try Self.checkValue(value, key: key)
            terms.append(.equals(key, value))
        }
        for requirement in selector.matchExpressions ?? [] {
            terms.append(try Self.term(requirement))
        }
        self = .allOf(terms)
    }

    /// The selector of a Kubernetes NetworkPolicy's `podSelector` (or a peer's): Kubernetes pods
    /// only (`projectcalico.org/orchestrator == 'k8s'`) and the LabelSelector's terms. A missing
    /// peer podSelector selects every pod too.
    public static func kubernetesPodSelector(_ selector: LabelSelector?) throws(SelectorConversionError) -> SelectorExpr {
        let orchestrator = SelectorExpr.equals(orchestratorLabel, "k8s")
        guard let selector else { return orchestrator }
        let terms = try SelectorExpr(kubernetes: selector)
        if case .and(let operands) = terms { return .and([orchestrator] + operands) }
        return .allOf([orchestrator, terms])
    }

    /// A peer's `namespaceSelector`: nil when absent (the policy's own namespace is meant),
    /// `all()` when empty (every namespace), else the terms. The caller prefixes the keys with
    /// `pcns.` when it matches them against namespace profile labels.
    public static func kubernetesNamespaceSelector(_ selector: LabelSelector?) throws(SelectorConversionError) -> SelectorExpr? {
        guard let selector else { return nil }
        return try SelectorExpr(kubernetes: selector)
    }

    private static func term(_ requirement: LabelSelector.Requirement) throws(SelectorConversionError) -> SelectorExpr {
        let key = requirement.key
        try checkKey(key)
        let values = requirement.values ?? []
        for value in values { try checkValue(value, key: key) }
        switch requirement.operator {
        case "In", "NotIn":
            guard !values.isEmpty else { throw .missingValues(key: key, operator: requirement.operator) }
            return requirement.operator == "In" ? .oneOf(key, values) : .noneOf(key, values)
        case "Exists":
            return .has(key)
        case "DoesNotExist":
            return .not(.has(key))
        default:
            throw .unknownOperator(key: key, operator: requirement.operator)
        }
    }

    private static func checkKey(_ key: String) throws(SelectorConversionError) {
        guard !key.isEmpty, key.utf8.allSatisfy(SelectorScanner.isLabelByte) else { throw .invalidKey(key) }
    }

    private static func checkValue(_ value: String, key: String) throws(SelectorConversionError) {
        if value.utf8.contains(UInt8(ascii: "'")) && value.utf8.contains(UInt8(ascii: "\"")) {
            throw .unquotableValue(key: key, value: value)
        }
    }
}
