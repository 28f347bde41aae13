import Core
import Foundation
import XCTest
@testable import DevCluster

final class HarnessChainTests: XCTestCase {
    private let conflist = """
    {"name":"k8s-pod-network","cniVersion":"1.0.0","plugins":[
      {"type":"calico","mtu":1500,"ipam":{"type":"host-local","subnet":"usePodCidr"}},
      {"type":"portmap","snat":true,"capabilities":{"portMappings":true}}]}
    """
    private let sandbox = CNIChain.Sandbox(containerID: "abc123", netnsPath: "/var/run/netns/dc-pod-default_a",
                                           podNamespace: "default", podName: "a", podUID: "u-1")

    func testAddInjectsNameVersionAndPrevResult() throws {
        let chain = try CNIChain(conflist: Data(conflist.utf8))
        XCTAssertEqual(chain.name, "k8s-pod-network")
        let first = chain.add(0, sandbox, cniPath: ["/n/bin", "/usr/lib/cni"], prevResult: nil)
        XCTAssertEqual(first.pluginType, "calico")
        XCTAssertEqual(first.stdin["name"]?.stringValue, "k8s-pod-network")
        XCTAssertEqual(first.stdin["cniVersion"]?.stringValue, "1.0.0")
        XCTAssertNil(first.stdin["prevResult"])
        XCTAssertEqual(first.stdin["ipam"]?["subnet"]?.stringValue, "usePodCidr")
        XCTAssertEqual(first.environment, [
            "CNI_COMMAND": "ADD", "CNI_CONTAINERID": "abc123", "CNI_NETNS": "/var/run/netns/dc-pod-default_a",
            "CNI_IFNAME": "eth0", "CNI_PATH": "/n/bin:/usr/lib/cni",
            "CNI_ARGS": "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=a;K8S_POD_INFRA_CONTAINER_ID=abc123;K8S_POD_UID=u-1",
        ])
        let result: JSONValue = .object(["cniVersion": .string("1.0.0"), "ips": .array([.object(["address": .string("10.244.1.2/32")])])])
        let ports: JSONValue = .array([.object(["hostPort": .int(8080), "containerPort": .int(80), "protocol": .string("tcp")])])
        let second = chain.add(1, sandbox, cniPath: [], prevResult: result, runtimeConfig: ["portMappings": ports, "bandwidth": .null])
        XCTAssertEqual(second.stdin["prevResult"], result)
        // Only capabilities the plugin declares are passed.
        XCTAssertEqual(second.stdin["runtimeConfig"], .object(["portMappings": ports]))
    }

    func testDelRunsInReverseWithCachedResultFrom040() throws {
        let cached: JSONValue = .object(["ips": .array([])])
        let chain = try CNIChain(conflist: Data(conflist.utf8))
        let del = chain.del(sandbox, cniPath: ["/x"], cachedResult: cached)
        XCTAssertEqual(del.map(\.pluginType), ["portmap", "calico"])
        XCTAssertTrue(del.allSatisfy { $0.environment["CNI_COMMAND"] == "DEL" && $0.stdin["prevResult"] == cached })
        let old = try CNIChain(conflist: Data(conflist.replacingOccurrences(of: "1.0.0", with: "0.3.1").utf8))
        XCTAssertTrue(old.del(sandbox, cniPath: [], cachedResult: cached).allSatisfy { $0.stdin["prevResult"] == nil })
    }

    func testVersionOrderAndLookup() {
        XCTAssertTrue(CNIChain.versionAtLeast("0.4.0", "0.4.0"))
        XCTAssertTrue(CNIChain.versionAtLeast("1.1.0", "0.4.0"))
        XCTAssertFalse(CNIChain.versionAtLeast("0.3.1", "0.4.0"))
        let present: Set = ["/b/portmap", "/a/calico", "/b/calico"]
        XCTAssertEqual(CNIChain.findPlugin("calico", in: ["/a", "/b"]) { present.contains($0) }, "/a/calico")
        XCTAssertEqual(CNIChain.findPlugin("portmap", in: ["/a", "/b"]) { present.contains($0) }, "/b/portmap")
        XCTAssertNil(CNIChain.findPlugin("ptp", in: ["/a", "/b"]) { present.contains($0) })
        XCTAssertNil(CNIChain.findPlugin("../calico", in: ["/a"]) { _ in true })
    }

    func testConfigFilePickAndAddresses() {
        XCTAssertEqual(CNIChain.pickConfigFile(["calico-kubeconfig", "20-b.conf", "10-calico.conflist", "x.txt"]), "10-calico.conflist")
        XCTAssertNil(CNIChain.pickConfigFile(["calico-kubeconfig"]))
        let v1: JSONValue = .object(["ips": .array([.object(["address": .string("10.244.1.2/32")]),
                                                    .object(["address": .string("fd00::2/128")])])])
        XCTAssertEqual(CNIChain.addresses(in: v1), ["10.244.1.2", "fd00::2"])
        let v02: JSONValue = .object(["ip4": .object(["ip": .string("10.0.0.5/24")])])
        XCTAssertEqual(CNIChain.addresses(in: v02), ["10.0.0.5"])
    }

    func testInvalidConflists() {
        for bad in ["{", #"{"cniVersion":"1.0.0","plugins":[{"type":"x"}]}"#, #"{"name":"n","plugins":[{"type":"x"}]}"#,
                    #"{"name":"n","cniVersion":"1.0.0","plugins":[]}"#, #"{"name":"n","cniVersion":"1.0.0","plugins":[{"mtu":1}]}"#] {
            XCTAssertThrowsError(try CNIChain(conflist: Data(bad.utf8)), bad)
        }
    }
}
