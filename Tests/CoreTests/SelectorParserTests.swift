import XCTest
@testable import Core

final class SelectorParserTests: XCTestCase {
    private func parse(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> SelectorExpr? {
        do {
            return try SelectorExpr.parse(text)
        } catch {
            XCTFail("\(text): \(error)", file: file, line: line)
            return nil
        }
    }

    func testEachOperator() {
        XCTAssertEqual(parse("a == 'x'"), .equals("a", "x"))
        XCTAssertEqual(parse("a != \"x\""), .notEquals("a", "x"))
        XCTAssertEqual(parse("a in {'x', \"y\"}"), .isIn("a", ["x", "y"]))
        XCTAssertEqual(parse("a not in {'x'}"), .notIn("a", ["x"]))
        XCTAssertEqual(parse("has(a)"), .has("a"))
        XCTAssertEqual(parse("!has(a)"), .not(.has("a")))
        XCTAssertEqual(parse("all()"), .all)
        XCTAssertEqual(parse("global()"), .global)
        XCTAssertEqual(parse("a contains 'x'"), .contains("a", "x"))
        XCTAssertEqual(parse("a starts with 'x'"), .startsWith("a", "x"))
        XCTAssertEqual(parse("a ends with 'x'"), .endsWith("a", "x"))
    }

    func testEmptySelectorIsAll() {
        XCTAssertEqual(parse(""), .all)
        XCTAssertEqual(parse("  \t\n "), .all)
    }

    func testAndBindsTighterThanOr() {
        let a = SelectorExpr.has("a"), b = SelectorExpr.has("b"), c = SelectorExpr.has("c")
        XCTAssertEqual(parse("has(a) || has(b) && has(c)"), .or([a, .and([b, c])]))
        XCTAssertEqual(parse("has(a) && has(b) || has(c)"), .or([.and([a, b]), c]))
        XCTAssertEqual(parse("(has(a) || has(b)) && has(c)"), .and([.or([a, b]), c]))
        XCTAssertEqual(parse("has(a) && has(b) && has(c)"), .and([a, b, c]))
        XCTAssertEqual(parse("has(a) || has(b) || has(c)"), .or([a, b, c]))
    }

    func testNotAppliesToOneOperand() {
        let a = SelectorExpr.has("a"), b = SelectorExpr.has("b")
        XCTAssertEqual(parse("!has(a) && has(b)"), .and([.not(a), b]))
        XCTAssertEqual(parse("!a == 'x'"), .not(.equals("a", "x")))
        XCTAssertEqual(parse("!(has(a) || has(b))"), .not(.or([a, b])))
        XCTAssertEqual(parse("!!has(a)"), a)
        XCTAssertEqual(parse("! ! ! has(a)"), .not(a))
        XCTAssertEqual(parse("!(!has(a))"), a)
    }

    func testNestingAndRedundantParentheses() {
        XCTAssertEqual(parse("((((has(a)))))"), .has("a"))
        XCTAssertEqual(parse("(has(a) && (has(b) || (has(c) && !has(d))))"),
                       .and([.has("a"), .or([.has("b"), .and([.has("c"), .not(.has("d"))])])]))
    }

    func testQuoting() {
        XCTAssertEqual(parse("a == \"it's\""), .equals("a", "it's"))
        XCTAssertEqual(parse("a == 'say \"hi\"'"), .equals("a", "say \"hi\""))
        XCTAssertEqual(parse("a == ''"), .equals("a", ""))
        XCTAssertEqual(parse("a == 'x && y || (z)'"), .equals("a", "x && y || (z)"))
        XCTAssertEqual(parse("a == 'caf\u{e9} \u{1F600}'"), .equals("a", "caf\u{e9} \u{1F600}"))
        // No escapes: a backslash is an ordinary character.
        XCTAssertEqual(parse(#"a == 'x\'"#), .equals("a", #"x\"#))
    }

    func testWhitespaceAnywhere() {
        XCTAssertEqual(parse("a=='x'&&b!='y'||has(c)"), parse("a == 'x' && b != 'y' || has(c)"))
        XCTAssertEqual(parse("\t( a  ==\n'x' )\r\n"), .equals("a", "x"))
        XCTAssertEqual(parse("has( a )"), .has("a"))
        XCTAssertEqual(parse("has (a)"), .has("a"))
        XCTAssertEqual(parse("all( )"), .all)
        XCTAssertEqual(parse("a   not   in{ 'x' ,'y' }"), .notIn("a", ["x", "y"]))
        XCTAssertEqual(parse("a starts\twith'x'"), .startsWith("a", "x"))
        XCTAssertEqual(parse("a in{'x'}"), .isIn("a", ["x"]))
    }

    func testLabelKeyCharset() {
        XCTAssertEqual(parse("projectcalico.org/namespace == 'x'"), .equals("projectcalico.org/namespace", "x"))
        XCTAssertEqual(parse("pcns.kubernetes.io/metadata.name == 'x'"),
                       .equals("pcns.kubernetes.io/metadata.name", "x"))
        XCTAssertEqual(parse("my-app_v2.1 == 'x'"), .equals("my-app_v2.1", "x"))
        XCTAssertEqual(parse("has(example.com/a-b_c)"), .has("example.com/a-b_c"))
    }

    func testKeywordsAreOrdinaryLabelsWhereUnambiguous() {
        XCTAssertEqual(parse("has == 'x'"), .equals("has", "x"))
        XCTAssertEqual(parse("all != 'x'"), .notEquals("all", "x"))
        XCTAssertEqual(parse("in in {'x'}"), .isIn("in", ["x"]))
        XCTAssertEqual(parse("not not in {'x'}"), .notIn("not", ["x"]))
        XCTAssertEqual(parse("contains contains 'x'"), .contains("contains", "x"))
        XCTAssertEqual(parse("has(has)"), .has("has"))
    }

    func testSetsAreSortedDeduplicatedAndMayBeEmpty() {
        XCTAssertEqual(parse("a in {'z', 'b', 'z', 'a'}"), .isIn("a", ["a", "b", "z"]))
        XCTAssertEqual(parse("a in {}"), .isIn("a", []))
        XCTAssertEqual(parse("a not in { }"), .notIn("a", []))
        XCTAssertEqual(parse("a in {'x',}"), .isIn("a", ["x"]))
    }

    func testDeepNestingWithinLimitParses() {
        let depth = SelectorParser.maxDepth
        let text = String(repeating: "(", count: depth) + "has(a)" + String(repeating: ")", count: depth)
        XCTAssertEqual(parse(text), .has("a"))
    }
}
