import Core
import XCTest
@testable import DevCluster

final class SelectorTests: XCTestCase {
    private let labels: [String: JSONValue] = ["app": .string("web"), "tier": .string("front"), "n": .string("5")]

    private func matches(_ s: String) throws -> Bool { try LabelSelector(parsing: s).matches(labels) }

    func testLabelSelectorOperators() throws {
        XCTAssertTrue(try matches(""))
        XCTAssertTrue(try matches("app=web"))
        XCTAssertTrue(try matches("app==web"))
        XCTAssertFalse(try matches("app!=web"))
        XCTAssertTrue(try matches("app!=db"))
        XCTAssertTrue(try matches("app in (db, web)"))
        XCTAssertFalse(try matches("app notin (db,web)"))
        XCTAssertTrue(try matches("missing notin (x)"))
        XCTAssertTrue(try matches("tier"))
        XCTAssertFalse(try matches("!tier"))
        XCTAssertTrue(try matches("!missing"))
        XCTAssertTrue(try matches("app=web,tier in (front),!missing"))
        XCTAssertFalse(try matches("app=web,tier=back"))
        XCTAssertTrue(try matches("n>4"))
        XCTAssertFalse(try matches("n<4"))
        XCTAssertFalse(try LabelSelector(parsing: "app=web").matches(nil))
    }

    func testBadLabelSelectorsAreRejected() {
        for bad in ["app in web", "=x", "a b c", "app in (x"] {
            XCTAssertThrowsError(try LabelSelector(parsing: bad), bad)
        }
    }

    func testFieldSelector() throws {
        let pod: JSONValue = .object(["metadata": .object(["name": .string("a"), "namespace": .string("ns")]),
                                      "spec": .object(["nodeName": .string("n1")])])
        XCTAssertTrue(try FieldSelector(parsing: "metadata.name=a,metadata.namespace==ns").matches(pod))
        XCTAssertTrue(try FieldSelector(parsing: "spec.nodeName!=n2").matches(pod))
        XCTAssertFalse(try FieldSelector(parsing: "spec.nodeName=n2").matches(pod))
        XCTAssertTrue(try FieldSelector(parsing: "spec.nodeName=").matches(.object([:])))
        XCTAssertThrowsError(try FieldSelector(parsing: "nonsense"))
    }
}
