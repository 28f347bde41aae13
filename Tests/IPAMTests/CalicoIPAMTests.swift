import Core
import IPAM
import XCTest

/// The allocator against the in-memory API server (which enforces resourceVersion on update).
final class CalicoIPAMTests: XCTestCase {
    var api: InMemoryKubeAPI!
    var ipam: CalicoIPAM!

    override func setUp() {
        api = InMemoryKubeAPI()
        ipam = CalicoIPAM(api: api)
    }

    func addPool(_ name: String, _ cidr: String, blockSize: Int? = nil, selector: String? = nil, disabled: Bool? = nil) async throws {
        _ = try await api.create(IPPool(metadata: ObjectMeta(name: name),
                                        spec: IPPoolSpec(cidr: cidr, disabled: disabled, blockSize: blockSize, nodeSelector: selector)))
    }

    func request(_ id: String, node: String = "node-a", settings: CalicoIPAMSettings = CalicoIPAMSettings()) -> AssignRequest {
        AssignRequest(handleID: "k8s-pod-network.\(id)", node: node, attributes: ["namespace": "default", "pod": "pod-\(id)"], settings: settings)
    }

    func blocks() async throws -> [IPAMBlock] { try await api.list(IPAMBlock.self).items }
    func handles() async throws -> [IPAMHandle] { try await api.list(IPAMHandle.self).items }
    func affinities() async throws -> [BlockAffinity] { try await api.list(BlockAffinity.self).items }

    func testFirstAllocationClaimsABlockAndRecordsEverything() async throws {
        try await addPool("default-ipv4-ippool", "192.168.0.0/16")
        let ips = try await ipam.assign(request("c1"))
        XCTAssertEqual(ips.map(\.description), ["192.168.0.0/32"])

        let b = try await api.get(IPAMBlock.self, name: "192-168-0-0-26", namespace: nil)
        XCTAssertEqual(b.spec.cidr, "192.168.0.0/26")
        XCTAssertEqual(b.spec.affinity, "host:node-a")
        XCTAssertNotNil(b.spec.affinityClaimTime)
        XCTAssertEqual(b.spec.allocations.first!, 0)
        XCTAssertEqual(b.spec.freeCount, 63)
        let attr = b.spec.attributes[0]
        XCTAssertEqual(attr.handleID, "k8s-pod-network.c1")
        XCTAssertEqual(attr.secondary?["namespace"], "default")
        XCTAssertEqual(attr.secondary?["pod"], "pod-c1")
        XCTAssertEqual(attr.secondary?["node"], "node-a")
        XCTAssertNotNil(attr.secondary?["timestamp"])

        let aff = try await api.get(BlockAffinity.self, name: "node-a-192-168-0-0-26", namespace: nil)
        XCTAssertEqual(aff.spec, BlockAffinitySpec(state: "confirmed", node: "node-a", cidr: "192.168.0.0/26"))
        let h = try await api.get(IPAMHandle.self, name: "k8s-pod-network.c1", namespace: nil)
        XCTAssertEqual(h.spec.block, ["192.168.0.0/26": 1])
        XCTAssertEqual(h.spec.handleID, "k8s-pod-network.c1")
    }

    func testAllocationOrderAndSecondBlock() async throws {
        try await addPool("p", "10.0.0.0/24", blockSize: 29)
        var got: [String] = []
        for i in 0..<10 { got += try await ipam.assign(request("c\(i)")).map(\.addressText) }
        XCTAssertEqual(got, (0..<10).map { "10.0.0.\($0)" }, "the affine block fills in order, then the next block is claimed")
        let names = try await blocks().map(\.metadata.name).sorted()
        XCTAssertEqual(names, ["10-0-0-0-29", "10-0-0-8-29"])
        let awaited1 = try await affinities().map(\.spec.state)
        XCTAssertEqual(awaited1, ["confirmed", "confirmed"])
    }

    func testReleaseIsIdempotentAndAddressesReturnLast() async throws {
        try await addPool("p", "10.0.0.0/24", blockSize: 29)
        _ = try await ipam.assign(request("a"))
        _ = try await ipam.assign(request("b"))
        let awaited2 = try await ipam.addresses(handle: "k8s-pod-network.a").map(\.addressText)
        XCTAssertEqual(awaited2, ["10.0.0.0"])
        let awaited3 = try await ipam.release(handle: "k8s-pod-network.a").map(\.addressText)
        XCTAssertEqual(awaited3, ["10.0.0.0"])
        let awaited4 = try await ipam.release(handle: "k8s-pod-network.a")
        XCTAssertEqual(awaited4, [], "a second DEL succeeds and frees nothing")
        let awaited5 = try await ipam.addresses(handle: "k8s-pod-network.a")
        XCTAssertEqual(awaited5, [])
        let awaited6 = try await handles().map(\.metadata.name)
        XCTAssertEqual(awaited6, ["k8s-pod-network.b"])
        let block = try await api.get(IPAMBlock.self, name: "10-0-0-0-29", namespace: nil)
        XCTAssertEqual(block.spec.attributes.count, 1)
        XCTAssertEqual(block.spec.unallocated.last, 0)
        let awaited7 = try await ipam.assign(request("c")).map(\.addressText)
        XCTAssertEqual(awaited7, ["10.0.0.2"])
    }

    func testRepeatedAddReturnsTheSameAddress() async throws {
        try await addPool("p", "10.0.0.0/24")
        let first = try await ipam.assign(request("same"))
        let again = try await ipam.assign(request("same"))
        XCTAssertEqual(first, again)
        let awaited8 = try await api.get(IPAMHandle.self, name: "k8s-pod-network.same", namespace: nil).spec.block
        XCTAssertEqual(awaited8, ["10.0.0.0/26": 1])
    }

    func testBorrowsOnlyWhenNoBlockIsLeft() async throws {
        try await addPool("p", "10.0.0.0/28", blockSize: 29)  // two blocks of 8
        let a = try await ipam.assign(request("a1", node: "node-a"))
        let b = try await ipam.assign(request("b1", node: "node-b"))
        XCTAssertEqual(a.map(\.addressText), ["10.0.0.0"])
        XCTAssertEqual(b.map(\.addressText), ["10.0.0.8"], "node-b claims the free block rather than borrowing")
        // Fill node-a's block, then node-a must borrow from node-b's.
        for i in 2...8 { _ = try await ipam.assign(request("a\(i)", node: "node-a")) }
        let borrowed = try await ipam.assign(request("a9", node: "node-a"))
        XCTAssertEqual(borrowed.map(\.addressText), ["10.0.0.9"])
        let bBlock = try await api.get(IPAMBlock.self, name: "10-0-0-8-29", namespace: nil)
        XCTAssertEqual(bBlock.spec.affinity, "host:node-b", "borrowing does not move the affinity")
        let awaited9 = try await api.get(IPAMHandle.self, name: "k8s-pod-network.a9", namespace: nil).spec.block
        XCTAssertEqual(awaited9, ["10.0.0.8/29": 1])
    }

    func testExhaustionNamesThePoolAndHoldsNothing() async throws {
        try await addPool("tiny", "10.9.0.0/30", blockSize: 30)
        for i in 0..<4 { _ = try await ipam.assign(request("t\(i)")) }
        do {
            _ = try await ipam.assign(request("over"))
            XCTFail("expected exhaustion")
        } catch let e as IPAMError {
            XCTAssertEqual(e, .exhausted(ipVersion: 4, pools: ["tiny (10.9.0.0/30)"]))
            XCTAssertEqual(e.cniCode, 11)
            XCTAssertTrue(e.description.contains("tiny"))
        }
        let awaited10 = try? await api.get(IPAMHandle.self, name: "k8s-pod-network.over", namespace: nil)
        XCTAssertNil(awaited10)
        let awaited11 = try await handles().count
        XCTAssertEqual(awaited11, 4)
        // After a release the address is available again.
        try await ipam.release(handle: "k8s-pod-network.t2")
        let awaited12 = try await ipam.assign(request("over")).map(\.addressText)
        XCTAssertEqual(awaited12, ["10.9.0.2"])
    }

    func testNoPool() async throws {
        do {
            _ = try await ipam.assign(request("x"))
            XCTFail("expected an error")
        } catch let e as IPAMError {
            XCTAssertEqual(e, .noPool(ipVersion: 4, node: "node-a"))
            XCTAssertEqual(e.cniCode, 7)
        }
        try await addPool("off", "10.0.0.0/24", disabled: true)
        do {
            _ = try await ipam.assign(request("x"))
            XCTFail("a disabled pool is no pool")
        } catch let e as IPAMError {
            XCTAssertEqual(e, .noPool(ipVersion: 4, node: "node-a"))
        }
        let awaited13 = try await handles().count
        XCTAssertEqual(awaited13, 0)
    }

    func testNodeSelectorUsesTheNodesLabels() async throws {
        try await addPool("rack1", "10.1.0.0/24", selector: "rack == 'r1'")
        try await addPool("rack2", "10.2.0.0/24", selector: "rack == 'r2'")
        _ = try await api.create(K8sNode(metadata: ObjectMeta(name: "n2", labels: ["rack": "r2"])))
        let awaited14 = try await ipam.assign(request("x", node: "n2")).map(\.addressText)
        XCTAssertEqual(awaited14, ["10.2.0.0"])
        do {
            _ = try await ipam.assign(request("y", node: "unlabelled"))
            XCTFail("no pool selects a node without labels")
        } catch let e as IPAMError {
            XCTAssertEqual(e, .noPool(ipVersion: 4, node: "unlabelled"))
        }
    }

    func testRequestedPoolsAndDualStack() async throws {
        try await addPool("a", "10.1.0.0/24")
        try await addPool("b", "10.2.0.0/24")
        try await addPool("v6", "fd00:1::/64")
        let settings = CalicoIPAMSettings(ipv4Pools: ["b"], ipv6Pools: ["fd00:1::/64"], assignIPv4: true, assignIPv6: true)
        let ips = try await ipam.assign(request("d", settings: settings))
        XCTAssertEqual(ips.map(\.description), ["10.2.0.0/32", "fd00:1::/128"])
        let h = try await api.get(IPAMHandle.self, name: "k8s-pod-network.d", namespace: nil)
        XCTAssertEqual(h.spec.block, ["10.2.0.0/26": 1, "fd00:1::/122": 1])
        let awaited15 = try? await api.get(IPAMBlock.self, name: "fd00-1---122", namespace: nil)
        XCTAssertNotNil(awaited15)
        let awaited16 = try await ipam.release(handle: "k8s-pod-network.d").count
        XCTAssertEqual(awaited16, 2)
    }

    func testIPv6Only() async throws {
        try await addPool("v6", "fd00:1::/120", blockSize: 126)
        let settings = CalicoIPAMSettings(assignIPv4: false, assignIPv6: true)
        var got: [String] = []
        for i in 0..<5 { got += try await ipam.assign(request("v\(i)", settings: settings)).map(\.description) }
        XCTAssertEqual(got, ["fd00:1::/128", "fd00:1::1/128", "fd00:1::2/128", "fd00:1::3/128", "fd00:1::4/128"])
    }

    func testDualStackFailureReleasesTheFirstFamily() async throws {
        try await addPool("a", "10.1.0.0/24")
        let settings = CalicoIPAMSettings(assignIPv4: true, assignIPv6: true)
        do {
            _ = try await ipam.assign(request("d", settings: settings))
            XCTFail("no IPv6 pool")
        } catch let e as IPAMError {
            XCTAssertEqual(e, .noPool(ipVersion: 6, node: "node-a"))
        }
        let awaited17 = try await handles().count
        XCTAssertEqual(awaited17, 0)
    }

    func testGarbageCollectKeepsValidAttachmentsOnly() async throws {
        try await addPool("p", "10.0.0.0/24")
        for id in ["keep", "stale1", "stale2"] { _ = try await ipam.assign(request(id)) }
        _ = try await ipam.assign(request("other-node", node: "node-b"))
        let released = try await ipam.garbageCollect(node: "node-a", prefix: "k8s-pod-network.", keepContainerIDs: ["keep"])
        XCTAssertEqual(released, ["k8s-pod-network.stale1", "k8s-pod-network.stale2"])
        let awaited18 = try await handles().map(\.metadata.name).sorted()
        XCTAssertEqual(awaited18, ["k8s-pod-network.keep", "k8s-pod-network.other-node"])
    }

    /// 1,000 ADD/DEL cycles leak nothing: no handle, every block empty with a complete free list.
    func testThousandCyclesLeakNothing() async throws {
        try await addPool("p", "10.0.0.0/24", blockSize: 28)
        var seen = Set<IPNet>()
        for i in 0..<1000 {
            let ips = try await ipam.assign(request("cycle\(i)"))
            XCTAssertEqual(ips.count, 1)
            seen.formUnion(ips)
            let released = try await ipam.release(handle: "k8s-pod-network.cycle\(i)")
            XCTAssertEqual(released, ips)
        }
        XCTAssertEqual(seen.count, 16, "released addresses go to the back, so the block's 16 rotate")
        let left = try await handles()
        XCTAssertEqual(left.count, 0)
        for b in try await blocks() {
            XCTAssertTrue(b.spec.isEmpty)
            XCTAssertEqual(Set(b.spec.unallocated), Set(0..<16))
            XCTAssertEqual(b.spec.attributes, [])
            XCTAssertEqual(b.spec.sequenceNumberForAllocation ?? [:], [:])
        }
        let blockCount = try await blocks().count
        XCTAssertEqual(blockCount, 1, "a node keeps reusing its block")
    }

    /// A claim interrupted after its affinity was written (pending) is completed by the next run.
    func testPendingAffinityFromAnEarlierRunIsReused() async throws {
        try await addPool("p", "10.0.0.0/24", blockSize: 26)
        _ = try await api.create(BlockAffinity(metadata: ObjectMeta(name: "node-a-10-0-0-0-26"),
                                               spec: BlockAffinitySpec(state: "pending", node: "node-a", cidr: "10.0.0.0/26")))
        let awaited19 = try await ipam.assign(request("x")).map(\.addressText)
        XCTAssertEqual(awaited19, ["10.0.0.0"])
        let awaited20 = try await affinities().map(\.spec.state)
        XCTAssertEqual(awaited20, ["confirmed"])
    }
}
