import XCTest
@testable import Core

final class SelectorEvaluationTests: XCTestCase {
    private let labels = ["app": "web", "tier": "frontend", "env": "prod-eu", "empty": ""]

    private func matches(_ text: String, _ labels: [String: String]? = nil, isGlobal: Bool = false,
                         file: StaticString = #filePath, line: UInt = #line) -> Bool {
        do {
            return try SelectorExpr.parse(text).matches(labels: labels ?? self.labels, isGlobal: isGlobal)
        } catch {
            XCTFail("\(text): \(error)", file: file, line: line)
            return false
        }
    }

    func testEquality() {
        XCTAssertTrue(matches("app == 'web'"))
        XCTAssertFalse(matches("app == 'db'"))
        XCTAssertFalse(matches("missing == 'web'"))
        XCTAssertTrue(matches("empty == ''"))
        XCTAssertFalse(matches("missing == ''"))
    }

    func testInequalityMatchesAbsentLabel() {
        XCTAssertTrue(matches("app != 'db'"))
        XCTAssertFalse(matches("app != 'web'"))
        XCTAssertTrue(matches("missing != 'web'"))
    }

    func testSets() {
        XCTAssertTrue(matches("app in {'db', 'web'}"))
        XCTAssertFalse(matches("app in {'db'}"))
        XCTAssertFalse(matches("missing in {'web'}"))
        XCTAssertFalse(matches("app in {}"))
        XCTAssertFalse(matches("app not in {'db', 'web'}"))
        XCTAssertTrue(matches("app not in {'db'}"))
        XCTAssertTrue(matches("missing not in {'web'}"))
        XCTAssertTrue(matches("app not in {}"))
    }

    func testHasAndAll() {
        XCTAssertTrue(matches("has(app)"))
        XCTAssertTrue(matches("has(empty)"))
        XCTAssertFalse(matches("has(missing)"))
        XCTAssertTrue(matches("!has(missing)"))
        XCTAssertFalse(matches("!has(app)"))
        XCTAssertTrue(matches("all()"))
        XCTAssertTrue(matches("all()", [:]))
        XCTAssertTrue(matches("", [:]))
        XCTAssertFalse(matches("!all()"))
    }

    func testGlobalFollowsTheContextFlag() {
        XCTAssertFalse(matches("global()"))
        XCTAssertTrue(matches("global()", isGlobal: true))
        XCTAssertTrue(matches("!global()"))
        XCTAssertTrue(matches("global() || app == 'web'"))
        XCTAssertFalse(matches("global() && app == 'web'"))
        XCTAssertTrue(matches("global() && app == 'web'", isGlobal: true))
    }

    func testStringOperators() {
        XCTAssertTrue(matches("env contains 'od-e'"))
        XCTAssertTrue(matches("env contains ''"))
        XCTAssertTrue(matches("env contains 'prod-eu'"))
        XCTAssertFalse(matches("env contains 'prod-eu-1'"))
        XCTAssertFalse(matches("missing contains ''"))
        XCTAssertTrue(matches("env starts with 'prod'"))
        XCTAssertFalse(matches("env starts with 'eu'"))
        XCTAssertTrue(matches("env ends with '-eu'"))
        XCTAssertFalse(matches("env ends with 'prod'"))
        XCTAssertFalse(matches("env ends with 'xprod-eu'"))
        XCTAssertTrue(matches("empty starts with ''"))
        XCTAssertFalse(matches("missing ends with ''"))
    }

    func testComparisonsAreBytewise() {
        // "é" precomposed and decomposed are canonically equal Strings but different bytes; Calico
        // (Go) compares bytes, so must we.
        let decomposed = ["k": "e\u{301}"]
        XCTAssertFalse(matches("k == '\u{e9}'", decomposed))
        XCTAssertTrue(matches("k == 'e\u{301}'", decomposed))
        XCTAssertTrue(matches("k starts with 'e'", decomposed))
        XCTAssertTrue(matches("k contains '\u{301}'", decomposed))
    }

    func testBooleanStructure() {
        XCTAssertTrue(matches("app == 'web' && tier == 'frontend'"))
        XCTAssertFalse(matches("app == 'web' && tier == 'backend'"))
        XCTAssertTrue(matches("app == 'db' || tier == 'frontend'"))
        XCTAssertTrue(matches("app == 'db' && tier == 'x' || has(env)"))
        XCTAssertFalse(matches("app == 'db' && (tier == 'x' || has(env))"))
        XCTAssertTrue(matches("!(app == 'db' || has(missing))"))
        XCTAssertFalse(matches("!app == 'web'"))
    }

    func testCustomLabelSource() {
        struct Layered: SelectorLabels {
            var own: [String: String]
            var inherited: [String: String]
            func labelValue(_ key: String) -> String? { own[key] ?? inherited[key] }
        }
        let source = Layered(own: ["app": "web"], inherited: ["pcns.team": "a", "app": "ignored"])
        let expr = try? SelectorExpr.parse("app == 'web' && pcns.team == 'a'")
        XCTAssertEqual(expr?.matches(labels: source), true)
    }

    func testThroughput() throws {
        let expr = try SelectorExpr.parse(
            "projectcalico.org/orchestrator == 'k8s' && (app in {'a', 'b', 'web'} || tier starts with 'front') && !has(quarantine)")
        let candidate = ["projectcalico.org/orchestrator": "k8s", "app": "web", "tier": "frontend",
                         "projectcalico.org/namespace": "default", "pod-template-hash": "5d8f7c"]
        let iterations = 200_000
        var hits = 0
        let start = ContinuousClock.now
        for _ in 0..<iterations where expr.matches(labels: candidate) { hits += 1 }
        let elapsed = ContinuousClock.now - start
        XCTAssertEqual(hits, iterations)
        let nanos = Double(elapsed.components.attoseconds) / 1e9 + Double(elapsed.components.seconds) * 1e9
        print("selector evaluation: \(Int(nanos / Double(iterations))) ns per match (debug build)")
    }
}
