import XCTest
@testable import Core

/// JSONWire.encodeSorted, which the CNI plugin writes its results and delegate input with:
/// keys in order at every depth, the same bytes as JSONValue.data() for such documents.
final class JSONWireSortedTests: XCTestCase {
    func testKeysSortedAtEveryDepth() {
        let value = JSONValue.object([
            "routes": .array([.object(["gw": .string("169.254.1.1"), "dst": .string("0.0.0.0/0")])]),
            "cniVersion": .string("1.0.0"),
            "ips": .array([.object(["interface": .int(0), "address": .string("10.0.0.5/32")])]),
            "dns": .object([:]),
        ])
        XCTAssertEqual(String(decoding: JSONWire.encodeSorted(value), as: UTF8.self),
                       #"{"cniVersion":"1.0.0","dns":{},"ips":[{"address":"10.0.0.5/32","interface":0}],"routes":[{"dst":"0.0.0.0/0","gw":"169.254.1.1"}]}"#)
    }

    func testSameBytesAsDataForCNIDocuments() throws {
        let value = JSONValue.object([
            "name": .string("k8s-pod-network"), "type": .string("calico"), "mtu": .int(1440),
            "ipam": .object(["type": .string("host-local"), "ranges": .array([.array([.object(["subnet": .string("10.0.0.0/24")])])])]),
            "kubernetes": .object(["kubeconfig": .string("/etc/cni/net.d/calico-kubeconfig")]),
            "msg": .string("quote \" backslash \\ newline \n tab \t"), "ok": .bool(true), "none": .null,
        ])
        XCTAssertEqual(Data(JSONWire.encodeSorted(value)), try value.data())
        XCTAssertEqual(try JSONValue(data: Data(JSONWire.encodeSorted(value))), value)
    }
}
