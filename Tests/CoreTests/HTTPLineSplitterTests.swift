import XCTest
@testable import Core

final class HTTPLineSplitterTests: XCTestCase {
    private let stream = Data("{\"type\":\"ADDED\",\"n\":1}\n{\"type\":\"MODIFIED\",\"n\":2}\r\n\n{\"type\":\"DELETED\",\"n\":3}\n".utf8)
    private let expected = ["{\"type\":\"ADDED\",\"n\":1}", "{\"type\":\"MODIFIED\",\"n\":2}", "{\"type\":\"DELETED\",\"n\":3}"]

    private func split(_ chunks: [Data]) throws -> [String] {
        var splitter = LineSplitter()
        var out: [String] = []
        for c in chunks { out += try splitter.append(c).map { String(decoding: $0, as: UTF8.self) } }
        if let last = splitter.finish() { out.append(String(decoding: last, as: UTF8.self)) }
        return out
    }

    func testEverySingleCutPointGivesTheSameLines() throws {
        for cut in 0...stream.count {
            XCTAssertEqual(try split([stream.prefix(cut), stream.dropFirst(cut)]), expected, "cut at \(cut)")
        }
    }

    func testByteByByteAndRandomChunking() throws {
        XCTAssertEqual(try split(stream.map { Data([$0]) }), expected)
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var chunks: [Data] = []
            var rest = stream[...]
            while !rest.isEmpty {
                let n = Int.random(in: 1...7, using: &rng)
                chunks.append(Data(rest.prefix(n)))
                rest = rest.dropFirst(n)
            }
            XCTAssertEqual(try split(chunks), expected)
        }
    }

    func testChunksThatAreSlicesWithNonZeroStartIndex() throws {
        // Data slices keep their parent's indices; the splitter must not assume 0-based chunks.
        let big = Data("xxxx".utf8) + stream
        XCTAssertEqual(try split([big.dropFirst(4).prefix(10), big.dropFirst(14)]), expected)
    }

    func testUnterminatedLastLineIsReturnedByFinish() throws {
        var splitter = LineSplitter()
        XCTAssertEqual(try splitter.append(Data("a\nb".utf8)), [Data("a".utf8)])
        XCTAssertEqual(splitter.finish(), Data("b".utf8))
        XCTAssertNil(splitter.finish())
    }

    func testOverlongLineIsAnErrorNotUnboundedBuffering() {
        var splitter = LineSplitter(maxLineLength: 16)
        XCTAssertThrowsError(try splitter.append(Data(repeating: 0x41, count: 17))) { error in
            XCTAssertEqual(error as? LineSplitter.LineTooLong, LineSplitter.LineTooLong(limit: 16))
        }
    }
}
