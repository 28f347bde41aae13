import XCTest
@testable import Core

/// Random selectors and label sets: the evaluator against a plain reference, the parser against
/// a renderer that writes each tree in many spellings, and the restrictions for soundness.
final class SelectorRandomizedTests: XCTestCase {
    private static let keys = ["a", "b.example.com/c-d", "e_f"]
    private static let values = ["x", "xy", "", "it's", "say \"hi\"", "caf\u{e9}"]

    /// SplitMix64: deterministic, so a failure reproduces.
    private struct Rng: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    private func randomExpr(_ rng: inout Rng, depth: Int) -> SelectorExpr {
        let key = Self.keys.randomElement(using: &rng)!
        let value = Self.values.randomElement(using: &rng)!
        let someValues = (0..<Int.random(in: 0...3, using: &rng)).map { _ in Self.values.randomElement(using: &rng)! }
        let choice = Int.random(in: 0..<(depth > 0 ? 14 : 11), using: &rng)
        switch choice {
        case 0: return .all
        case 1: return .global
        case 2: return .has(key)
        case 3: return .equals(key, value)
        case 4: return .notEquals(key, value)
        case 5: return .contains(key, value)
        case 6: return .startsWith(key, value)
        case 7: return .endsWith(key, value)
        case 8: return .oneOf(key, someValues)
        case 9: return .noneOf(key, someValues)
        case 10: return .not(.has(key))
        case 11: return randomExpr(&rng, depth: depth - 1).negated
        default:
            let operands = (0..<Int.random(in: 2...3, using: &rng)).map { _ in randomExpr(&rng, depth: depth - 1) }
            return choice == 12 ? .and(operands) : .or(operands)
        }
    }

    private func randomLabels(_ rng: inout Rng) -> [String: String] {
        var labels: [String: String] = [:]
        for key in Self.keys where Bool.random(using: &rng) {
            labels[key] = Self.values.randomElement(using: &rng)!
        }
        return labels
    }

    /// The obvious evaluation, written independently of the one under test.
    private func reference(_ expr: SelectorExpr, _ labels: [String: String], _ isGlobal: Bool) -> Bool {
        func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
        func holds(_ key: String, _ test: ([UInt8]) -> Bool) -> Bool { labels[key].map { test(bytes($0)) } ?? false }
        switch expr {
        case .all: return true
        case .global: return isGlobal
        case .has(let k): return labels.keys.contains(k)
        case .equals(let k, let v): return holds(k) { $0 == bytes(v) }
        case .notEquals(let k, let v): return !holds(k) { $0 == bytes(v) }
        case .contains(let k, let v):
            return holds(k) { h in
                let n = bytes(v)
                guard h.count >= n.count else { return false }
                return (0...(h.count - n.count)).contains { Array(h[$0..<$0 + n.count]) == n }
            }
        case .startsWith(let k, let v): return holds(k) { $0.starts(with: bytes(v)) }
        case .endsWith(let k, let v): return holds(k) { $0.count >= bytes(v).count && Array($0.suffix(bytes(v).count)) == bytes(v) }
        case .isIn(let k, let vs): return holds(k) { h in vs.contains { bytes($0) == h } }
        case .notIn(let k, let vs): return !holds(k) { h in vs.contains { bytes($0) == h } }
        case .not(let e): return !reference(e, labels, isGlobal)
        case .and(let es): return es.allSatisfy { reference($0, labels, isGlobal) }
        case .or(let es): return es.contains { reference($0, labels, isGlobal) }
        }
    }

    /// Writes `expr` in a random but equivalent spelling.
    private func render(_ expr: SelectorExpr, _ rng: inout Rng) -> String {
        func ws() -> String { ["", " ", "  ", "\t", "\n"].randomElement(using: &rng)! }
        func quoted(_ v: String) -> String {
            let quote: String = v.contains("\"") ? "'" : v.contains("'") ? "\"" : (Bool.random(using: &rng) ? "'" : "\"")
            return quote + v + quote
        }
        func op(_ k: String, _ o: String, _ v: String) -> String { k + ws() + o + ws() + quoted(v) }
        func set(_ vs: [String]) -> String {
            var items = vs.map(quoted)
            if let extra = items.randomElement(using: &rng) { items.append(extra) }  // duplicates are fine
            items.shuffle(using: &rng)
            return "{" + ws() + items.joined(separator: ws() + "," + ws()) + ws() + "}"
        }
        var text: String
        switch expr {
        case .all: text = "all(" + ws() + ")"
        case .global: text = "global(" + ws() + ")"
        case .has(let k): text = "has(" + ws() + k + ws() + ")"
        case .equals(let k, let v): text = op(k, "==", v)
        case .notEquals(let k, let v): text = op(k, "!=", v)
        case .contains(let k, let v): text = k + " contains " + ws() + quoted(v)
        case .startsWith(let k, let v): text = k + " starts " + ws() + "with" + ws() + quoted(v)
        case .endsWith(let k, let v): text = k + "\tends with" + ws() + quoted(v)
        case .isIn(let k, let vs): text = k + " in" + ws() + set(vs)
        case .notIn(let k, let vs): text = k + " not" + ws() + " in " + set(vs)
        case .not(let e): text = "!" + ws() + "(" + render(e, &rng) + ")"
        case .and(let es): text = es.map { "(" + render($0, &rng) + ")" }.joined(separator: ws() + "&&" + ws())
        case .or(let es): text = es.map { "(" + render($0, &rng) + ")" }.joined(separator: ws() + "||" + ws())
        }
        if Int.random(in: 0..<4, using: &rng) == 0 { text = "!!" + ws() + "(" + text + ")" }
        return ws() + text + ws()
    }

    func testEvaluatorAgreesWithReference() {
        var rng = Rng(state: 0x5E1E_C702)
        var matched = 0
        for _ in 0..<3000 {
            let expr = randomExpr(&rng, depth: 3)
            for _ in 0..<8 {
                let labels = randomLabels(&rng)
                let isGlobal = Bool.random(using: &rng)
                let expected = reference(expr, labels, isGlobal)
                XCTAssertEqual(expr.matches(labels: labels, isGlobal: isGlobal), expected, "\(expr) on \(labels)")
                if expected { matched += 1 }
            }
        }
        // Both outcomes occur often enough for the comparison to mean something.
        XCTAssertGreaterThan(matched, 3000)
        XCTAssertLessThan(matched, 21000)
    }

    func testAnySpellingParsesToTheSameTreeAndCanonicalFormRoundTrips() throws {
        var rng = Rng(state: 42)
        for _ in 0..<2000 {
            let expr = randomExpr(&rng, depth: 3)
            let text = render(expr, &rng)
            XCTAssertEqual(try SelectorExpr.parse(text), expr, text)
            XCTAssertEqual(try SelectorExpr.parse(expr.description), expr, expr.description)
        }
    }

    func testRestrictionsHoldForEveryMatch() {
        var rng = Rng(state: 7)
        for _ in 0..<2000 {
            let expr = randomExpr(&rng, depth: 3)
            let restrictions = expr.labelRestrictions
            let keys = expr.labelKeys
            for _ in 0..<8 {
                let labels = randomLabels(&rng)
                guard expr.matches(labels: labels, isGlobal: true) else { continue }
                for (key, r) in restrictions {
                    if r.mustBePresent { XCTAssertNotNil(labels[key], "\(expr) \(labels)") }
                    if r.mustBeAbsent { XCTAssertNil(labels[key], "\(expr) \(labels)") }
                    if let allowed = r.mustHaveOneOf, let value = labels[key] {
                        XCTAssertTrue(allowed.contains(value), "\(expr) \(labels)")
                    }
                }
                // Labels the selector does not read cannot change its result.
                var extra = labels
                extra["unrelated"] = "z"
                for key in Self.keys where !keys.contains(key) { extra[key] = nil }
                XCTAssertTrue(expr.matches(labels: extra, isGlobal: true), "\(expr) \(labels)")
            }
        }
    }
}
