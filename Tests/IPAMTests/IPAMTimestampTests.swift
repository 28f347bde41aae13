@testable import IPAM
import Foundation
import XCTest

/// IPAM's timestamps are exactly what ISO8601DateFormatter's default writes.
final class IPAMTimestampTests: XCTestCase {
    func testSameTextAsISO8601DateFormatter() {
        let formatter = ISO8601DateFormatter()
        var dates = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 951_782_400.75),  // 2000-02-29
                     Date(timeIntervalSince1970: 1_798_761_599), Date(timeIntervalSince1970: 4_102_444_800)]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 { dates.append(Date(timeIntervalSince1970: Double(generator.next() % 4_000_000_000) + 0.5)) }
        for d in dates {
            XCTAssertEqual(IPAMTimestamp.string(from: d), formatter.string(from: d), "\(d.timeIntervalSince1970)")
        }
        XCTAssertEqual(IPAMTimestamp.string(from: Date(timeIntervalSince1970: 951_782_400.75)), "2000-02-29T00:00:00Z")
    }
}
