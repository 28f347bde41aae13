import XCTest
@testable import Policy

/// Quoted strings in nft text (interface names, log prefixes, comments): escaped only when they
/// hold a quote or backslash, and then both are escaped as nft reads them.
final class NFTTextQuotingTests: XCTestCase {
    func testPlainNamesAreQuotedAsTheyAre() {
        XCTAssertEqual(NFTText.quoted("cali0123456789a"), "\"cali0123456789a\"")
        XCTAssertEqual(NFTText.quoted(""), "\"\"")
        XCTAssertEqual(NFTRule([.iifname("eth0.100")], verdict: .accept).body, "iifname \"eth0.100\" accept")
    }

    func testQuotesAndBackslashesAreEscaped() {
        XCTAssertEqual(NFTText.quoted("a\"b"), "\"a\\\"b\"")
        XCTAssertEqual(NFTText.quoted("a\\b"), "\"a\\\\b\"")
        // A backslash before a quote: the backslash is doubled first, then the quote escaped.
        XCTAssertEqual(NFTText.quoted("x\\\"y"), "\"x\\\\\\\"y\"")
        XCTAssertEqual(NFTRule(statements: [.log(prefix: "calico \"drop\" ")]).body, "log prefix \"calico \\\"drop\\\" \"")
    }
}
