import Foundation
import XCTest
@testable import Core

final class SelectorCanonicalFormTests: XCTestCase {
    private func canonical(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String? {
        do {
            return try SelectorExpr.parse(text).description
        } catch {
            XCTFail("\(text): \(error)", file: file, line: line)
            return nil
        }
    }

    func testCalicoFormat() {
        XCTAssertEqual(canonical(""), "all()")
        XCTAssertEqual(canonical("all( )"), "all()")
        XCTAssertEqual(canonical("global()"), "global()")
        XCTAssertEqual(canonical("has( a )"), "has(a)")
        XCTAssertEqual(canonical("a=='x'"), "a == \"x\"")
        XCTAssertEqual(canonical("a!='x'"), "a != \"x\"")
        XCTAssertEqual(canonical("a contains'x'"), "a contains \"x\"")
        XCTAssertEqual(canonical("a starts  with'x'"), "a starts with \"x\"")
        XCTAssertEqual(canonical("a ends with'x'"), "a ends with \"x\"")
        XCTAssertEqual(canonical("a in {'y','x'}"), "a in {\"x\", \"y\"}")
        XCTAssertEqual(canonical("a not in {}"), "a not in {}")
        XCTAssertEqual(canonical("!has(a)"), "!has(a)")
        XCTAssertEqual(canonical("has(a)&&has(b)||has(c)"), "((has(a) && has(b)) || has(c))")
        XCTAssertEqual(canonical("!(has(a) || has(b))"), "!(has(a) || has(b))")
        XCTAssertEqual(canonical("((has(a)))"), "has(a)")
    }

    func testQuoteChoice() {
        XCTAssertEqual(canonical("a == \"it's\""), "a == \"it's\"")
        XCTAssertEqual(canonical("a == 'say \"hi\"'"), "a == 'say \"hi\"'")
        XCTAssertEqual(canonical("a in {'say \"hi\"', \"it's\"}"), "a in {\"it's\", 'say \"hi\"'}")
    }

    func testRoundTripIsStable() throws {
        let selectors = [
            "a == 'x' && (b != \"y\" || c in {'1', '2'}) && !has(d)",
            "!(!(has(a)))",
            "((a == 'x') || (b == 'y')) && ((c == 'z'))",
            "a not in {'q\"', \"r'\"} || global() && all()",
            "x starts with '' || y ends with 'e' || z contains 'c'",
            "!!!!!a == 'x'",
            "has(a) && (has(b) && (has(c) && has(d)))",
        ]
        for text in selectors {
            let expr = try SelectorExpr.parse(text)
            let reparsed = try SelectorExpr.parse(expr.description)
            XCTAssertEqual(reparsed, expr, text)
            XCTAssertEqual(reparsed.description, expr.description, text)
        }
    }

    func testHandBuiltEmptyGroupsPrintTheirMeaning() throws {
        XCTAssertEqual(SelectorExpr.and([]).description, "all()")
        XCTAssertEqual(try SelectorExpr.parse(SelectorExpr.or([]).description).matches(labels: [:]), false)
    }
}

final class SelectorCodableTests: XCTestCase {
    func testDecodesByParsingAndEncodesCanonically() throws {
        struct Holder: Codable, Equatable { var selector: SelectorExpr }
        let decoded = try JSONDecoder().decode(Holder.self, from: Data(#"{"selector": "a=='x' && has(b)"}"#.utf8))
        XCTAssertEqual(decoded.selector, .and([.equals("a", "x"), .has("b")]))
        let encoded = String(decoding: try JSONEncoder().encode(decoded), as: UTF8.self)
        XCTAssertEqual(encoded, #"{"selector":"(a == \"x\" && has(b))"}"#)
        XCTAssertEqual(try JSONDecoder().decode(Holder.self, from: Data(encoded.utf8)), decoded)
    }

    func testMalformedSelectorFailsDecodingWithPosition() {
        XCTAssertThrowsError(try JSONDecoder().decode([SelectorExpr].self, from: Data(#"["has(a"]"#.utf8))) { error in
            guard case DecodingError.dataCorrupted(let context) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(context.debugDescription.hasPrefix("expected ')' at 5"), context.debugDescription)
        }
    }
}
