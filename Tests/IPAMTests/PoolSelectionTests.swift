import Core
import IPAM
import XCTest

final class PoolSelectionTests: XCTestCase {
    func pool(_ name: String, _ cidr: String, blockSize: Int? = nil, selector: String? = nil, disabled: Bool? = nil) -> IPPool {
        IPPool(metadata: ObjectMeta(name: name), spec: IPPoolSpec(cidr: cidr, disabled: disabled, blockSize: blockSize, nodeSelector: selector))
    }

    func testDefaultsFamiliesAndDisabled() throws {
        let pools = [pool("b", "10.1.0.0/16"), pool("a", "10.0.0.0/16", blockSize: 28), pool("off", "10.2.0.0/16", disabled: true),
                     pool("v6", "fd00::/48")]
        let v4 = try PoolSelection.usable(pools, ipv6: false, requested: [], field: "f", nodeLabels: [:])
        XCTAssertEqual(v4.map(\.name), ["a", "b"])
        XCTAssertEqual(v4.map(\.blockSize), [28, 26])
        let v6 = try PoolSelection.usable(pools, ipv6: true, requested: [], field: "f", nodeLabels: [:])
        XCTAssertEqual(v6, [UsablePool(name: "v6", cidr: IPNet(parsing: "fd00::/48")!, blockSize: 122)])
    }

    func testNodeSelector() throws {
        let pools = [pool("rack1", "10.0.0.0/16", selector: "rack == 'r1'"), pool("rest", "10.1.0.0/16", selector: "!has(rack)"),
                     pool("all", "10.2.0.0/16", selector: "all()")]
        XCTAssertTrue(PoolSelection.needsNodeLabels(pools))
        XCTAssertFalse(PoolSelection.needsNodeLabels([pools[2], pool("x", "10.9.0.0/16")]))
        XCTAssertEqual(try PoolSelection.usable(pools, ipv6: false, requested: [], field: "f", nodeLabels: ["rack": "r1"]).map(\.name),
                       ["all", "rack1"])
        XCTAssertEqual(try PoolSelection.usable(pools, ipv6: false, requested: [], field: "f", nodeLabels: [:]).map(\.name), ["all", "rest"])
        XCTAssertThrowsError(try PoolSelection.usable([pool("bad", "10.0.0.0/16", selector: "rack ==")], ipv6: false, requested: [],
                                                      field: "f", nodeLabels: [:])) {
            guard case IPAMError.invalidConfig(let field, _) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(field, "IPPool bad spec.nodeSelector")
        }
    }

    func testRequestedPools() throws {
        let pools = [pool("a", "10.0.0.0/16", selector: "rack == 'r9'"), pool("b", "10.1.0.0/16"), pool("off", "10.2.0.0/16", disabled: true)]
        // By CIDR and by name, in the requested order, nodeSelector not applied.
        XCTAssertEqual(try PoolSelection.usable(pools, ipv6: false, requested: ["10.1.0.0/16", "a"], field: "f", nodeLabels: [:]).map(\.name),
                       ["b", "a"])
        XCTAssertThrowsError(try PoolSelection.usable(pools, ipv6: false, requested: ["nope"], field: "ipam.ipv4_pools", nodeLabels: [:])) {
            XCTAssertEqual($0 as? IPAMError, .requestedPoolUnusable(field: "ipam.ipv4_pools", pool: "nope",
                                                                     reason: "does not exist (no IPv4 IPPool has that name or CIDR)"))
            XCTAssertEqual(($0 as? IPAMError)?.cniCode, 7)
        }
        XCTAssertThrowsError(try PoolSelection.usable(pools, ipv6: false, requested: ["off"], field: "f", nodeLabels: [:])) {
            guard case IPAMError.requestedPoolUnusable(_, "off", "is disabled") = $0 else { return XCTFail("\($0)") }
        }
    }

    func testBadBlockSize() {
        XCTAssertThrowsError(try PoolSelection.usable([pool("p", "10.0.0.0/24", blockSize: 20)], ipv6: false, requested: [], field: "f", nodeLabels: [:]))
        XCTAssertThrowsError(try PoolSelection.usable([pool("p", "fd00::/48", blockSize: 64)], ipv6: true, requested: [], field: "f", nodeLabels: [:]))
    }

    func testSettingsParse() throws {
        XCTAssertEqual(try CalicoIPAMSettings.parse(.object(["type": .string("calico-ipam")])), CalicoIPAMSettings())
        let s = try CalicoIPAMSettings.parse(.object(["ipv4_pools": .array([.string("p1")]), "ipv6_pools": .array([.string("fd00::/48")]),
                                                      "assign_ipv4": .string("false"), "assign_ipv6": .bool(true)]))
        XCTAssertEqual(s, CalicoIPAMSettings(ipv4Pools: ["p1"], ipv6Pools: ["fd00::/48"], assignIPv4: false, assignIPv6: true))
        XCTAssertThrowsError(try CalicoIPAMSettings.parse(.object(["ipv4_pools": .string("p1")]))) {
            XCTAssertEqual($0 as? IPAMError, .invalidConfig(field: "ipam.ipv4_pools", problem: "must be a list of pool names or CIDRs"))
        }
        XCTAssertThrowsError(try CalicoIPAMSettings.parse(.object(["assign_ipv4": .string("false")])), "nothing to assign")
    }
}
