import XCTest
@testable import Core

final class HTTPBearerTokenTests: XCTestCase {
    private var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "token-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func write(_ text: String, to path: String, mtime: TimeInterval) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: mtime)], ofItemAtPath: path)
    }

    func testTokenFileIsReReadWhenItsModificationTimeChanges() throws {
        let path = dir + "/token"
        try write("first-token\n", to: path, mtime: 1_000_000)
        let source = BearerTokenSource(token: nil, tokenFile: path)
        XCTAssertEqual(try source.current(), "first-token")
        // Same length, same mtime: the cached value is kept (no re-read).
        try write("other-token\n", to: path, mtime: 1_000_000)
        XCTAssertEqual(try source.current(), "first-token")
        // Rotated: new mtime means a re-read.
        try write("second-token", to: path, mtime: 1_000_100)
        XCTAssertEqual(try source.current(), "second-token")
    }

    func testVanishedFileKeepsTheLastTokenAndMissingFileNamesThePath() throws {
        let path = dir + "/token"
        try write("kept", to: path, mtime: 1_000_000)
        let source = BearerTokenSource(token: nil, tokenFile: path)
        XCTAssertEqual(try source.current(), "kept")
        try FileManager.default.removeItem(atPath: path)
        XCTAssertEqual(try source.current(), "kept")

        let missing = BearerTokenSource(token: nil, tokenFile: dir + "/nope")
        XCTAssertThrowsError(try missing.current()) { error in
            XCTAssertTrue(String(describing: error).contains(self.dir + "/nope"))
        }
    }

    func testLiteralTokenAndNoToken() throws {
        XCTAssertEqual(try BearerTokenSource(token: "abc", tokenFile: nil).current(), "abc")
        XCTAssertNil(try BearerTokenSource(token: nil, tokenFile: nil).current())
        XCTAssertEqual(try BearerTokenSource(token: "fallback", tokenFile: dir + "/nope").current(), "fallback")
    }
}
