import Core
import IPAM
import XCTest

final class BlockMathTests: XCTestCase {
    func net(_ s: String) -> IPNet { IPNet(parsing: s)! }

    func testAddressAtOrdinalAndBack() {
        let block = net("10.0.1.64/26")
        XCTAssertEqual(IPAMAddressMath.address(in: block, ordinal: 0).description, "10.0.1.64/32")
        XCTAssertEqual(IPAMAddressMath.address(in: block, ordinal: 63).description, "10.0.1.127/32")
        XCTAssertEqual(IPAMAddressMath.ordinal(of: net("10.0.1.100"), in: block), 36)
        XCTAssertNil(IPAMAddressMath.ordinal(of: net("10.0.1.128"), in: block))
        XCTAssertEqual(IPAMAddressMath.size(of: block), 64)
    }

    func testBlocksOfAPool() {
        let pool = net("192.168.0.0/16")
        XCTAssertEqual(IPAMAddressMath.blockCount(ofSize: 26, in: pool), 1024)
        XCTAssertEqual(IPAMAddressMath.block(0, ofSize: 26, in: pool)?.description, "192.168.0.0/26")
        XCTAssertEqual(IPAMAddressMath.block(5, ofSize: 26, in: pool)?.description, "192.168.1.64/26")
        XCTAssertEqual(IPAMAddressMath.block(1023, ofSize: 26, in: pool)?.description, "192.168.255.192/26")
        XCTAssertNil(IPAMAddressMath.block(1024, ofSize: 26, in: pool))
        XCTAssertNil(IPAMAddressMath.block(0, ofSize: 15, in: pool), "a block larger than its pool")
        XCTAssertEqual(IPAMAddressMath.enclosingBlock(of: net("192.168.3.77"), blockSize: 26).description, "192.168.3.64/26")
    }

    func testIPv6Blocks() {
        let pool = net("fd00:10::/64")
        XCTAssertEqual(IPAMAddressMath.blockCount(ofSize: 122, in: pool), UInt128(1) << 58)
        XCTAssertEqual(IPAMAddressMath.block(1, ofSize: 122, in: pool)?.description, "fd00:10::40/122")
        XCTAssertEqual(IPAMAddressMath.address(in: net("fd00:10::40/122"), ordinal: 63).description, "fd00:10::7f/128")
        XCTAssertEqual(IPAMAddressMath.blockCount(ofSize: 128, in: net("::/0")), UInt128.max)
    }

    func testCalicoNames() {
        XCTAssertEqual(IPAMNames.blockName(net("192.168.0.64/26")), "192-168-0-64-26")
        XCTAssertEqual(IPAMNames.blockName(net("fd00:10::40/122")), "fd00-10--40-122")
        XCTAssertEqual(IPAMNames.affinityName(node: "node-1", cidr: net("10.0.0.0/26")), "node-1-10-0-0-0-26")
        XCTAssertEqual(IPAMNames.hostAffinity("node-1"), "host:node-1")
        XCTAssertEqual(IPAMNames.affineNode("host:node-1"), "node-1")
        XCTAssertNil(IPAMNames.affineNode("virtual:x"))
        XCTAssertNil(IPAMNames.affineNode(nil))
        XCTAssertEqual(CalicoNames.ipamHandle(containerID: "abc"), "k8s-pod-network.abc")
    }
}
