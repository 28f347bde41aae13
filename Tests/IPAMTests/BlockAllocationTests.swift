import Core
import IPAM
import XCTest

final class BlockAllocationTests: XCTestCase {
    let a = IPAMBlockSpec.Attribute(handleID: "h-a", secondary: ["pod": "a"])
    let b = IPAMBlockSpec.Attribute(handleID: "h-b", secondary: ["pod": "b"])

    func testEmptyBlock() {
        let s = IPAMBlockSpec.empty(cidr: IPNet(parsing: "10.0.0.0/29")!, affinity: "host:n1")
        XCTAssertEqual(s.allocations, Array(repeating: nil, count: 8))
        XCTAssertEqual(s.unallocated, Array(0..<8))
        XCTAssertTrue(s.isEmpty)
        XCTAssertEqual(s.freeCount, 8)
        XCTAssertEqual(s.cidr, "10.0.0.0/29")
    }

    func testAllocationOrderReleaseGoesToTheBack() {
        var s = IPAMBlockSpec.empty(cidr: IPNet(parsing: "10.0.0.0/29")!, affinity: nil)
        XCTAssertEqual(s.allocate(2, attribute: a), [0, 1])
        XCTAssertEqual(s.allocate(1, attribute: b), [2])
        XCTAssertEqual(s.allocations, [0, 0, 1, nil, nil, nil, nil, nil])
        XCTAssertEqual(s.handleCounts, ["h-a": 2, "h-b": 1])
        XCTAssertEqual(s.sequenceNumber, 3)
        XCTAssertEqual(s.sequenceNumberForAllocation, ["0": 0, "1": 1, "2": 2])

        XCTAssertEqual(s.release(handle: "h-a"), [0, 1])
        XCTAssertEqual(s.unallocated, [3, 4, 5, 6, 7, 0, 1], "released ordinals are handed out last")
        // h-a's attribute is gone and h-b's reference renumbered.
        XCTAssertEqual(s.attributes, [b])
        XCTAssertEqual(s.allocations, [nil, nil, 0, nil, nil, nil, nil, nil])
        XCTAssertEqual(s.sequenceNumberForAllocation, ["2": 2])
        XCTAssertEqual(s.release(handle: "h-a"), [], "a second release frees nothing")
        XCTAssertEqual(s.allocate(1, attribute: a), [3])
    }

    func testFullBlockAndSpecificOrdinal() {
        var s = IPAMBlockSpec.empty(cidr: IPNet(parsing: "10.0.0.0/30")!, affinity: nil)
        XCTAssertTrue(s.allocate(ordinal: 2, attribute: a))
        XCTAssertFalse(s.allocate(ordinal: 2, attribute: b))
        XCTAssertEqual(s.allocate(10, attribute: b), [0, 1, 3])
        XCTAssertEqual(s.allocate(1, attribute: b), [])
        XCTAssertEqual(s.freeCount, 0)
        XCTAssertEqual(s.ordinals(of: "h-b"), [0, 1, 3])
    }

    /// The wire shape is Calico's: nulls for free slots, handle_id, string-keyed sequence map.
    func testWireShape() throws {
        var s = IPAMBlockSpec.empty(cidr: IPNet(parsing: "10.0.0.0/30")!, affinity: "host:n1")
        _ = s.allocate(1, attribute: a)
        let block = IPAMBlock(metadata: ObjectMeta(name: "10-0-0-0-30"), spec: s)
        let json = try block.encodedForWrite()
        XCTAssertEqual(json["apiVersion"]?.stringValue, "crd.projectcalico.org/v1")
        XCTAssertEqual(json["kind"]?.stringValue, "IPAMBlock")
        let spec = json["spec"]!
        XCTAssertEqual(spec["allocations"], .array([.int(0), .null, .null, .null]))
        XCTAssertEqual(spec["unallocated"], .array([.int(1), .int(2), .int(3)]))
        XCTAssertEqual(spec["attributes"]?.arrayValue?.first?["handle_id"]?.stringValue, "h-a")
        XCTAssertEqual(spec["affinity"]?.stringValue, "host:n1")
        XCTAssertEqual(spec["strictAffinity"], .bool(false))
        XCTAssertEqual(spec["sequenceNumberForAllocation"]?["0"], .int(0))
        let back = try IPAMBlock.decode(from: json)
        XCTAssertEqual(back.spec, s)

        let affinity = BlockAffinity(metadata: ObjectMeta(name: "n1-10-0-0-0-30"),
                                     spec: BlockAffinitySpec(state: "confirmed", node: "n1", cidr: "10.0.0.0/30"))
        let aj = try affinity.encodedForWrite()["spec"]!
        XCTAssertEqual(aj, .object(["state": .string("confirmed"), "node": .string("n1"), "cidr": .string("10.0.0.0/30"),
                                    "deleted": .string("false")]))

        let handle = IPAMHandle(metadata: ObjectMeta(name: "k8s-pod-network.x"),
                                spec: IPAMHandleSpec(handleID: "k8s-pod-network.x", block: ["10.0.0.0/30": 1], deleted: false))
        let hj = try handle.encodedForWrite()["spec"]!
        XCTAssertEqual(hj, .object(["handleID": .string("k8s-pod-network.x"), "block": .object(["10.0.0.0/30": .int(1)]),
                                    "deleted": .bool(false)]))
    }
}
