import Core

/// A Kubernetes label selector (`a=b,c!=d,e in (f,g),h notin (i),j,!k`), as list and watch take it.
struct LabelSelector: Sendable, Equatable {
    enum Requirement: Sendable, Equatable {
        case equals(String, String)
        case notEquals(String, String)
        case isIn(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case notExists(String)
        case greaterThan(String, Int64)
        case lessThan(String, Int64)
    }

    var requirements: [Requirement]

    static let everything = LabelSelector(requirements: [])

    init(requirements: [Requirement]) { self.requirements = requirements }

    /// Parses the query-parameter form; the empty string selects everything.
    init(parsing text: String) throws(StoreError) {
        var reqs: [Requirement] = []
        for part in Self.splitTopLevel(text) {
            let p = part.trimmingSpaces
            if p.isEmpty { continue }
            reqs.append(try Self.requirement(p))
        }
        requirements = reqs
    }

    func matches(_ labels: [String: JSONValue]?) -> Bool {
        let labels = labels ?? [:]
        func value(_ k: String) -> String? { labels[k]?.stringValue }
        for r in requirements {
            switch r {
            case .equals(let k, let v): if value(k) != v { return false }
            case .notEquals(let k, let v): if value(k) == v { return false }
            case .isIn(let k, let vs): guard let v = value(k), vs.contains(v) else { return false }
            case .notIn(let k, let vs): if let v = value(k), vs.contains(v) { return false }
            case .exists(let k): if labels[k] == nil { return false }
            case .notExists(let k): if labels[k] != nil { return false }
            case .greaterThan(let k, let n): guard let v = value(k).flatMap({ Int64($0) }), v > n else { return false }
            case .lessThan(let k, let n): guard let v = value(k).flatMap({ Int64($0) }), v < n else { return false }
            }
        }
        return true
    }

    /// Splits on commas that are not inside parentheses.
    static func splitTopLevel(_ text: String) -> [Substring] {
        var parts: [Substring] = []
        var depth = 0
        var start = text.startIndex
        for i in text.indices {
            switch text[i] {
            case "(": depth += 1
            case ")": depth -= 1
            case "," where depth == 0:
                parts.append(text[start..<i])
                start = text.index(after: i)
            default: break
            }
        }
        parts.append(text[start...])
        return parts
    }

    private static func requirement(_ p: Substring) throws(StoreError) -> Requirement {
        let bad = StoreError.badRequest("unable to parse requirement: \"\(p)\"")
        if p.hasPrefix("!") {
            let key = p.dropFirst().trimmingSpaces
            guard validKey(key) else { throw bad }
            return .notExists(String(key))
        }
        for (op, make) in [("!=", Requirement.notEquals), ("==", Requirement.equals), ("=", Requirement.equals)] as [(String, (String, String) -> Requirement)] {
            if let r = p.range(of: op) {
                let key = p[..<r.lowerBound].trimmingSpaces, value = p[r.upperBound...].trimmingSpaces
                guard validKey(key), !value.contains(where: { " ,()=!".contains($0) }) else { throw bad }
                return make(String(key), String(value))
            }
        }
        for (op, isGreater) in [(">", true), ("<", false)] {
            if let r = p.range(of: op) {
                let key = p[..<r.lowerBound].trimmingSpaces
                guard validKey(key), let n = Int64(p[r.upperBound...].trimmingSpaces) else { throw bad }
                return isGreater ? .greaterThan(String(key), n) : .lessThan(String(key), n)
            }
        }
        let words = p.split(separator: " ", maxSplits: 1)
        if words.count == 1 {
            guard validKey(words[0]) else { throw bad }
            return .exists(String(words[0]))
        }
        let key = String(words[0])
        let rest = words[1].trimmingSpaces
        let isNotIn: Bool
        let setText: Substring
        if rest.hasPrefix("notin") { isNotIn = true; setText = rest.dropFirst(5).trimmingSpaces }
        else if rest.hasPrefix("in") { isNotIn = false; setText = rest.dropFirst(2).trimmingSpaces }
        else { throw bad }
        guard validKey(key[...]), setText.hasPrefix("("), setText.hasSuffix(")") else { throw bad }
        let values = Set(setText.dropFirst().dropLast().split(separator: ",").map { String($0.trimmingSpaces) }.filter { !$0.isEmpty })
        return isNotIn ? .notIn(key, values) : .isIn(key, values)
    }

    private static func validKey(_ k: Substring) -> Bool {
        !k.isEmpty && k.allSatisfy { $0.isLetter || $0.isNumber || "-_./".contains($0) }
    }
}

/// A field selector (`metadata.name=x,spec.nodeName!=y`): equality on dotted paths into the object.
struct FieldSelector: Sendable, Equatable {
    struct Requirement: Sendable, Equatable {
        var path: [String]
        var value: String
        var negated: Bool
    }

    var requirements: [Requirement]

    static let everything = FieldSelector(requirements: [])

    init(requirements: [Requirement]) { self.requirements = requirements }

    init(parsing text: String) throws(StoreError) {
        var reqs: [Requirement] = []
        for part in text.split(separator: ",") {
            let p = part.trimmingSpaces
            if p.isEmpty { continue }
            var negated = false
            let r: Range<Substring.Index>
            if let x = p.range(of: "!=") { r = x; negated = true }
            else if let x = p.range(of: "==") { r = x }
            else if let x = p.range(of: "=") { r = x }
            else { throw StoreError.badRequest("invalid field selector: \"\(p)\"") }
            let key = p[..<r.lowerBound].trimmingSpaces
            guard !key.isEmpty else { throw StoreError.badRequest("invalid field selector: \"\(p)\"") }
            reqs.append(Requirement(path: key.split(separator: ".").map(String.init),
                                    value: String(p[r.upperBound...].trimmingSpaces), negated: negated))
        }
        requirements = reqs
    }

    func matches(_ object: JSONValue) -> Bool {
        for r in requirements {
            var current: JSONValue? = object
            for key in r.path { current = current?[key] }
            let actual: String
            switch current {
            case .string(let s)?: actual = s
            case .int(let i)?: actual = String(i)
            case .bool(let b)?: actual = String(b)
            default: actual = ""
            }
            if (actual == r.value) == r.negated { return false }
        }
        return true
    }
}

extension StringProtocol {
    var trimmingSpaces: Substring {
        var s = self[...]
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return Substring(s)
    }
}
