import XCTest
@testable import Core

final class SelectorSyntaxErrorTests: XCTestCase {
    /// Asserts `text` fails at `position` expecting `expected`.
    private func assertError(_ text: String, at position: Int, expected: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        do {
            let parsed = try SelectorExpr.parse(text)
            XCTFail("\(text) parsed as \(parsed)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.position, position, "position in \(text): \(error)", file: file, line: line)
            XCTAssertEqual(error.expected, expected, "expected in \(text): \(error)", file: file, line: line)
            XCTAssertEqual(error.selector, text, file: file, line: line)
        }
    }

    func testMalformedInputs() {
        assertError("a == 'b' && (has(c)", at: 19, expected: "')'")
        assertError("a == b", at: 5, expected: "a quoted string")
        assertError("a = 'b'", at: 2, expected: "'==', '!=', 'in', 'not in', 'contains', 'starts with' or 'ends with'")
        assertError("a == 'b", at: 7, expected: "closing \"'\"")
        assertError("a == \"b", at: 7, expected: "closing '\"'")
        assertError("has(a) & has(b)", at: 7, expected: "'&&', '||' or end of selector")
        assertError("has(a) | has(b)", at: 7, expected: "'&&', '||' or end of selector")
        assertError("has(a) &&", at: 9, expected: "a label, has(), all(), global(), '!' or '('")
        assertError("|| has(a)", at: 0, expected: "a label, has(), all(), global(), '!' or '('")
        assertError("has()", at: 4, expected: "a label key")
        assertError("has(a", at: 5, expected: "')'")
        assertError("all(x)", at: 4, expected: "')'")
        assertError("a in 'x'", at: 5, expected: "'{'")
        assertError("a in {'x' 'y'}", at: 10, expected: "',' or '}'")
        assertError("a in {'x',,}", at: 10, expected: "a quoted string")
        assertError("a starts 'x'", at: 9, expected: "'with'")
        assertError("a not 'x'", at: 6, expected: "'in'")
        assertError("a", at: 1, expected: "'==', '!=', 'in', 'not in', 'contains', 'starts with' or 'ends with'")
        assertError("has(a))", at: 6, expected: "'&&', '||' or end of selector")
        assertError("()", at: 1, expected: "a label, has(), all(), global(), '!' or '('")
        assertError("foo(a)", at: 0, expected: "has(), all() or global()")
        assertError("a == 'x' #", at: 9, expected: "'&&', '||' or end of selector")
        assertError("!= 'x'", at: 0, expected: "a label, has(), all(), global(), '!' or '('")
        assertError("a inx {'x'}", at: 2, expected: "'==', '!=', 'in', 'not in', 'contains', 'starts with' or 'ends with'")
    }

    func testPositionCountsCharactersNotBytes() {
        // "é" and the emoji are one character each but several UTF-8 bytes.
        assertError("a == '\u{e9}\u{1F600}' &&", at: 12, expected: "a label, has(), all(), global(), '!' or '('")
    }

    func testMessageAndDescription() {
        do {
            _ = try SelectorExpr.parse("a == 'b' && (has(c)")
            XCTFail("parsed")
        } catch {
            XCTAssertEqual(error.message, "expected ')' at 19")
            XCTAssertEqual(error.found, "end of selector")
            XCTAssertTrue(error.description.hasPrefix("expected ')' at 19, found end of selector"), error.description)
        }
        do {
            _ = try SelectorExpr.parse("a == b && c")
            XCTFail("parsed")
        } catch {
            XCTAssertEqual(error.found, "\"b && c\"")
        }
    }

    func testHostileNestingIsRefusedNotCrashing() {
        let depth = 100_000
        let text = String(repeating: "(", count: depth) + "has(a)" + String(repeating: ")", count: depth)
        XCTAssertThrowsError(try SelectorExpr.parse(text)) { error in
            XCTAssertEqual((error as? SelectorSyntaxError)?.position, SelectorParser.maxDepth)
        }
        // A long run of "!" is iterative and fine.
        XCTAssertEqual(try SelectorExpr.parse(String(repeating: "!", count: 100_001) + "has(a)"), .not(.has("a")))
    }
}
