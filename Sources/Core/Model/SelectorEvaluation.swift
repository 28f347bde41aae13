/// Something a selector can be evaluated against: a label lookup. Felix evaluates against an
/// endpoint's own labels overlaid with its profiles' without building a merged dictionary.
public protocol SelectorLabels {
    /// The value of label `key`, or nil when the label is absent.
    func labelValue(_ key: String) -> String?
}

extension Dictionary: SelectorLabels where Key == String, Value == String {
    @inlinable
    public func labelValue(_ key: String) -> String? { self[key] }
}

extension SelectorExpr {
    /// Whether labels match. `isGlobal` says whether the resource is not namespaced (a host
    /// endpoint or a global network set): only then does `global()` match.
    ///
    /// Evaluation walks the tree without allocating; value comparisons are bytewise, as Go's.
    public func matches(labels: [String: String], isGlobal: Bool = false) -> Bool {
        evaluate(labels, isGlobal)
    }

    /// Whether the labels that `labels` looks up match; see `matches(labels:isGlobal:)`.
    public func matches<Labels: SelectorLabels>(labels: Labels, isGlobal: Bool = false) -> Bool {
        evaluate(labels, isGlobal)
    }

    private func evaluate<Labels: SelectorLabels>(_ labels: Labels, _ isGlobal: Bool) -> Bool {
        switch self {
        case .all:
            return true
        case .global:
            return isGlobal
        case .has(let key):
            return labels.labelValue(key) != nil
        case .equals(let key, let value):
            guard let actual = labels.labelValue(key) else { return false }
            return actual.utf8.elementsEqual(value.utf8)
        case .notEquals(let key, let value):
            guard let actual = labels.labelValue(key) else { return true }
            return !actual.utf8.elementsEqual(value.utf8)
        case .contains(let key, let value):
            guard let actual = labels.labelValue(key) else { return false }
            return Self.bytes(of: actual, contain: value)
        case .startsWith(let key, let value):
            guard let actual = labels.labelValue(key) else { return false }
            return actual.utf8.starts(with: value.utf8)
        case .endsWith(let key, let value):
            guard let actual = labels.labelValue(key) else { return false }
            return actual.utf8.count >= value.utf8.count
                && actual.utf8.reversed().starts(with: value.utf8.reversed())
        case .isIn(let key, let values):
            guard let actual = labels.labelValue(key) else { return false }
            return values.contains { $0.utf8.elementsEqual(actual.utf8) }
        case .notIn(let key, let values):
            guard let actual = labels.labelValue(key) else { return true }
            return !values.contains { $0.utf8.elementsEqual(actual.utf8) }
        case .not(let operand):
            return !operand.evaluate(labels, isGlobal)
        case .and(let operands):
            for operand in operands where !operand.evaluate(labels, isGlobal) { return false }
            return true
        case .or(let operands):
            for operand in operands where operand.evaluate(labels, isGlobal) { return true }
            return false
        }
    }

    /// Bytewise substring search (label values are short, so the naive scan is the fast one).
    private static func bytes(of haystack: String, contain needle: String) -> Bool {
        let hay = haystack.utf8, pin = needle.utf8
        if pin.isEmpty { return true }
        guard hay.count >= pin.count else { return false }
        var start = hay.startIndex
        let last = hay.index(hay.endIndex, offsetBy: -pin.count)
        while true {
            if hay[start...].starts(with: pin) { return true }
            if start == last { return false }
            start = hay.index(after: start)
        }
    }
}
