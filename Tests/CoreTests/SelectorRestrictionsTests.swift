import XCTest
@testable import Core

final class SelectorRestrictionsTests: XCTestCase {
    private typealias R = SelectorLabelRestriction

    private func restrictions(_ text: String) throws -> [String: R] {
        try SelectorExpr.parse(text).labelRestrictions
    }

    func testLabelKeys() throws {
        XCTAssertEqual(try SelectorExpr.parse("a == 'x' && (b != 'y' || !has(c)) && d in {'1'} || global()").labelKeys,
                       ["a", "b", "c", "d"])
        XCTAssertEqual(try SelectorExpr.parse("all()").labelKeys, [])
    }

    func testLeaves() throws {
        XCTAssertEqual(try restrictions("a == 'x'"), ["a": R(mustBePresent: true, mustHaveOneOf: ["x"])])
        XCTAssertEqual(try restrictions("a in {'x', 'y'}"), ["a": R(mustBePresent: true, mustHaveOneOf: ["x", "y"])])
        XCTAssertEqual(try restrictions("has(a)"), ["a": R(mustBePresent: true)])
        XCTAssertEqual(try restrictions("a contains 'x'"), ["a": R(mustBePresent: true)])
        XCTAssertEqual(try restrictions("!has(a)"), ["a": R(mustBeAbsent: true)])
        XCTAssertEqual(try restrictions("a != 'x'"), [:])
        XCTAssertEqual(try restrictions("a not in {'x'}"), [:])
        XCTAssertEqual(try restrictions("!(a == 'x')"), [:])
        XCTAssertEqual(try restrictions("all()"), [:])
    }

    func testAndCombines() throws {
        XCTAssertEqual(try restrictions("a == 'x' && has(b) && a in {'x', 'y'}"),
                       ["a": R(mustBePresent: true, mustHaveOneOf: ["x"]), "b": R(mustBePresent: true)])
        XCTAssertEqual(try restrictions("a == 'x' && a == 'y'"), ["a": R(mustBePresent: true, mustHaveOneOf: [])])
        XCTAssertEqual(try restrictions("has(a) && a == 'x'"), ["a": R(mustBePresent: true, mustHaveOneOf: ["x"])])
    }

    func testOrKeepsOnlyWhatEveryBranchRequires() throws {
        XCTAssertEqual(try restrictions("a == 'x' || a == 'y'"), ["a": R(mustBePresent: true, mustHaveOneOf: ["x", "y"])])
        XCTAssertEqual(try restrictions("a == 'x' || has(a)"), ["a": R(mustBePresent: true)])
        XCTAssertEqual(try restrictions("a == 'x' || b == 'y'"), [:])
        XCTAssertEqual(try restrictions("!has(a) || !has(a) && has(b)"), ["a": R(mustBeAbsent: true)])
        XCTAssertEqual(try restrictions("(a == 'x' && b == '1') || (a == 'y' && c == '2')"),
                       ["a": R(mustBePresent: true, mustHaveOneOf: ["x", "y"])])
    }

    func testKeyMapping() throws {
        let expr = try SelectorExpr.parse("a == 'x' && (!has(b) || c not in {'1'}) && global()")
        XCTAssertEqual(expr.prefixingKeys(with: "pcsa.").description,
                       "(pcsa.a == \"x\" && (!has(pcsa.b) || pcsa.c not in {\"1\"}) && global())")
        XCTAssertEqual(expr.mappingKeys { $0.uppercased() }.labelKeys, ["A", "B", "C"])
    }
}
