import Core
import IPAM
import XCTest

/// CNI_ARGS `IP=`: a specific address, in this node's block or another's.
final class RequestedAddressTests: XCTestCase {
    func testSpecificAddressClaimsItsBlockOrUsesAnothersAndRefusesATakenOne() async throws {
        let api = InMemoryKubeAPI()
        let ipam = CalicoIPAM(api: api)
        _ = try await api.create(IPPool(metadata: ObjectMeta(name: "p"), spec: IPPoolSpec(cidr: "10.5.0.0/16")))
        func request(_ id: String, _ ip: String, node: String = "n1") -> AssignRequest {
            AssignRequest(handleID: id, node: node, attributes: [:], settings: CalicoIPAMSettings(), requestedIPs: [IPNet(parsing: ip)!])
        }

        let first = try await ipam.assign(request("h1", "10.5.3.70"))
        XCTAssertEqual(first.map(\.description), ["10.5.3.70/32"])
        let block = try await api.get(IPAMBlock.self, name: "10-5-3-64-26", namespace: nil)
        XCTAssertEqual(block.spec.affinity, "host:n1", "an unclaimed block is claimed for the node")
        XCTAssertEqual(block.spec.ordinals(of: "h1"), [6])

        // Another node may take an address in n1's block; the affinity stays.
        let second = try await ipam.assign(request("h2", "10.5.3.71", node: "n2"))
        XCTAssertEqual(second.map(\.addressText), ["10.5.3.71"])
        let after = try await api.get(IPAMBlock.self, name: "10-5-3-64-26", namespace: nil)
        XCTAssertEqual(after.spec.affinity, "host:n1")

        do {
            _ = try await ipam.assign(request("h3", "10.5.3.70"))
            XCTFail("the address is taken")
        } catch let e as IPAMError {
            XCTAssertEqual(e, .addressUnavailable(address: "10.5.3.70", reason: "is already in use"))
            XCTAssertEqual(e.cniCode, 11)
        }
        let h3 = try? await api.get(IPAMHandle.self, name: "h3", namespace: nil)
        XCTAssertNil(h3, "a failed request holds nothing")

        do {
            _ = try await ipam.assign(request("h4", "172.16.0.1"))
            XCTFail("outside every pool")
        } catch let e as IPAMError {
            XCTAssertEqual(e, .addressNotInPool(address: "172.16.0.1"))
            XCTAssertEqual(e.cniCode, 7)
        }

        // Auto-assignment on n1 skips the taken ordinals of its block.
        let auto = try await ipam.assign(AssignRequest(handleID: "h5", node: "n1", attributes: [:], settings: CalicoIPAMSettings()))
        XCTAssertEqual(auto.map(\.addressText), ["10.5.3.64"])
        let released = try await ipam.release(handle: "h1")
        XCTAssertEqual(released.map(\.addressText), ["10.5.3.70"])
    }
}
