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
    /// Inlinable so that callers in other modules get a version specialized to their label type.
    @inlinable
    public func matches<Labels: SelectorLabels>(labels: Labels, isGlobal: Bool = false) -> Bool {
        evaluate(labels, isGlobal)
    }

    @inlinable
    internal func evaluate<Labels: SelectorLabels>(_ labels: Labels, _ isGlobal: Bool) -> Bool {
        switch self {
        case .all:
            return true
        case .global:
            return isGlobal
        case .has(let key):
            return labels.labelValue(key) != nil
        case .equals(let key, let value):
            guard let actual = labels.labelValue(key) else { return false }
            return SelectorBytes.equal(actual, value)
        case .notEquals(let key, let value):
            guard let actual = labels.labelValue(key) else { return true }
            return !SelectorBytes.equal(actual, value)
        case .contains(let key, let value):
            guard let actual = labels.labelValue(key) else { return false }
            return SelectorBytes.contains(actual, value)
        case .startsWith(let key, let value):
            guard let actual = labels.labelValue(key) else { return false }
            return SelectorBytes.hasPrefix(actual, value)
        case .endsWith(let key, let value):
            guard let actual = labels.labelValue(key) else { return false }
            return SelectorBytes.hasSuffix(actual, value)
        case .isIn(let key, let values):
            guard let actual = labels.labelValue(key) else { return false }
            return values.contains { SelectorBytes.equal($0, actual) }
        case .notIn(let key, let values):
            guard let actual = labels.labelValue(key) else { return true }
            return !values.contains { SelectorBytes.equal($0, actual) }
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

}

/// Bytewise comparisons over the strings' UTF-8 storage (no copies for native strings).
@usableFromInline
enum SelectorBytes {
    @inlinable @inline(__always)
    static func withBytes<R>(_ string: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        var string = string
        return string.withUTF8(body)
    }

    @inlinable
    static func equal(_ lhs: String, _ rhs: String) -> Bool {
        guard lhs.utf8.count == rhs.utf8.count else { return false }
        return withBytes(lhs) { l in withBytes(rhs) { r in same(l, 0, r) } }
    }

    @inlinable
    static func hasPrefix(_ string: String, _ prefix: String) -> Bool {
        withBytes(string) { s in withBytes(prefix) { p in p.count <= s.count && same(s, 0, p) } }
    }

    @inlinable
    static func hasSuffix(_ string: String, _ suffix: String) -> Bool {
        withBytes(string) { s in withBytes(suffix) { p in p.count <= s.count && same(s, s.count - p.count, p) } }
    }

    /// Naive search: label values are at most 63 bytes, where it beats anything cleverer.
    @inlinable
    static func contains(_ string: String, _ needle: String) -> Bool {
        withBytes(string) { s in
            withBytes(needle) { p in
                guard p.count <= s.count else { return false }
                for start in 0...(s.count - p.count) where same(s, start, p) { return true }
                return false
            }
        }
    }

    /// Whether `haystack[offset..<offset + needle.count]` equals `needle` (caller checks bounds).
    @inlinable @inline(__always)
    static func same(_ haystack: UnsafeBufferPointer<UInt8>, _ offset: Int, _ needle: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        while index < needle.count {
            if haystack[offset + index] != needle[index] { return false }
            index += 1
        }
        return true
    }
}
