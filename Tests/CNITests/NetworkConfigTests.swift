import Core
import Foundation
import XCTest
@testable import CNI

final class NetworkConfigTests: XCTestCase {
    func testDecodesCalicoKeys() throws {
        let c = try NetworkConfig.decode(Fixture.config(extra: [
            "nodename_file": .string("/tmp/nodename"), "nodename_file_optional": .bool(true),
            "feature_control": .object(["floating_ips": .bool(true)]),
            "container_settings": .object(["allow_ip_forwarding": .bool(true)]),
            "kubernetes": .object(["kubeconfig": .string("/k"), "k8s_api_root": .string("https://10.96.0.1:443")]),
            "runtimeConfig": .object(["portMappings": .array([])]),
            "custom_key": .string("kept"),
        ]))
        XCTAssertEqual(c.cniVersion, .v1_0_0)
        XCTAssertEqual(c.name, "k8s-pod-network")
        XCTAssertEqual(c.type, "calico")
        XCTAssertEqual(c.datastoreType, "kubernetes")
        XCTAssertEqual(c.nodename, "node-1")
        XCTAssertEqual(c.nodenameFile, "/tmp/nodename")
        XCTAssertTrue(c.nodenameFileOptional)
        XCTAssertEqual(c.mtu, 1440)
        XCTAssertEqual(c.effectiveMTU, 1440)
        XCTAssertEqual(c.logLevel, "info")
        XCTAssertEqual(c.logFilePath, "/var/log/calico/cni/cni.log")
        XCTAssertEqual(c.ipam.type, "host-local")
        XCTAssertEqual(c.ipam.subnet, "usePodCidr")
        XCTAssertEqual(c.ipam.raw, json(#"{"type":"host-local","subnet":"usePodCidr"}"#))
        XCTAssertEqual(c.policy.type, "k8s")
        XCTAssertEqual(c.kubernetes.kubeconfig, "/k")
        XCTAssertEqual(c.kubernetes.k8sAPIRoot, "https://10.96.0.1:443")
        XCTAssertTrue(c.featureControl.floatingIPs)
        XCTAssertFalse(c.featureControl.ipAddrsNoIpam)
        XCTAssertTrue(c.containerSettings.allowIPForwarding)
        XCTAssertEqual(c.runtimeConfig, json(#"{"portMappings":[]}"#))
        XCTAssertEqual(c.raw["custom_key"], .string("kept"))
        XCTAssertNil(c.prevResult)
    }

    func testDefaults() throws {
        let c = try NetworkConfig.decode(Fixture.config(remove: ["mtu", "datastore_type", "policy", "nodename", "log_level"]))
        XCTAssertEqual(c.mtu, 0)
        XCTAssertEqual(c.effectiveMTU, 1500)
        XCTAssertEqual(c.datastoreType, "kubernetes")
        XCTAssertEqual(c.nodenameFile, "/var/lib/calico/nodename")
        XCTAssertFalse(c.nodenameFileOptional)
        XCTAssertEqual(c.policy.type, "")
        XCTAssertNil(c.nodename)
    }

    func testDecodeFailuresAreCode6NamingTheField() {
        assertCNIError(.decodeFailure, mentions: "not valid JSON") { try NetworkConfig.decode(Data("{\"cniVersion\":".utf8)) }
        assertCNIError(.decodeFailure, mentions: "expected a JSON object") { try NetworkConfig.decode(Data("[1]".utf8)) }
        assertCNIError(.decodeFailure, mentions: "mtu") { try NetworkConfig.decode(Fixture.config(extra: ["mtu": .string("1440")])) }
        assertCNIError(.decodeFailure, mentions: "nodename_file_optional") {
            try NetworkConfig.decode(Fixture.config(extra: ["nodename_file_optional": .string("yes")]))
        }
        assertCNIError(.decodeFailure, mentions: "kubernetes.kubeconfig") {
            try NetworkConfig.decode(Fixture.config(extra: ["kubernetes": .object(["kubeconfig": .int(3)])]))
        }
        assertCNIError(.decodeFailure, mentions: "policy") { try NetworkConfig.decode(Fixture.config(extra: ["policy": .string("k8s")])) }
        assertCNIError(.decodeFailure, mentions: "runtimeConfig") {
            try NetworkConfig.decode(Fixture.config(extra: ["runtimeConfig": .array([])]))
        }
    }

    func testVersionProblemsAreCode1ListingSupportedVersions() {
        for v in ["9.9.9", "0.2.0", "0.1.0", "1.0"] {
            assertCNIError(.incompatibleVersion, mentions: "0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0") {
                try NetworkConfig.decode(Fixture.config(version: v))
            }
        }
        assertCNIError(.incompatibleVersion, mentions: "missing") { try NetworkConfig.decode(Fixture.config(remove: ["cniVersion"])) }
        for v in SpecVersion.allCases {
            XCTAssertEqual(try NetworkConfig.decode(Fixture.config(version: v.rawValue)).cniVersion, v)
        }
    }

    func testSemanticProblemsAreCode7NamingTheField() {
        let cases: [(String, [String: JSONValue], [String])] = [
            ("type", [:], ["type"]),
            ("name", [:], ["name"]),
            ("name", ["name": .string("bad name")], []),
            ("mtu", ["mtu": .int(20)], []),
            ("mtu", ["mtu": .int(70000)], []),
            ("log_level", ["log_level": .string("loud")], []),
            ("ipam", [:], ["ipam"]),
            ("ipam.type", ["ipam": .object(["subnet": .string("10.0.0.0/24")])], []),
            ("num_queues", ["num_queues": .int(-1)], []),
            ("plugins", ["plugins": .array([])], []),
        ]
        for (field, extra, remove) in cases {
            assertCNIError(.invalidNetworkConfig, mentions: field) { try NetworkConfig.decode(Fixture.config(extra: extra, remove: remove)) }
        }
    }

    func testUnsupportedFieldsAreCode2WithKeyAndValue() {
        assertCNIError(.unsupportedField, mentions: "datastore_type = \"etcdv3\"") {
            try NetworkConfig.decode(Fixture.config(extra: ["datastore_type": .string("etcdv3")]))
        }
        assertCNIError(.unsupportedField, mentions: "policy.type = \"calico\"") {
            try NetworkConfig.decode(Fixture.config(extra: ["policy": .object(["type": .string("calico")])]))
        }
        assertCNIError(.unsupportedField, mentions: "etcd_endpoints") {
            try NetworkConfig.decode(Fixture.config(extra: ["etcd_endpoints": .string("http://127.0.0.1:2379")]))
        }
    }

    func testPolicyDescriptionHidesTheToken() throws {
        let c = try NetworkConfig.decode(Fixture.config(extra: ["policy": .object(["type": .string("k8s"), "k8s_auth_token": .string("s3cret")])]))
        XCTAssertEqual(c.policy.k8sAuthToken, "s3cret")
        XCTAssertFalse(String(describing: c.policy).contains("s3cret"))
    }

    func testNodenameResolution() throws {
        var c = try NetworkConfig.decode(Fixture.config())
        XCTAssertEqual(try c.resolveNodename(readFile: { _ in "file-node" }, hostname: { "Host" }), "node-1")
        c.nodename = nil
        XCTAssertEqual(try c.resolveNodename(readFile: { $0 == "/var/lib/calico/nodename" ? "file-node\n" : nil }, hostname: { "Host" }),
                       "file-node")
        assertCNIError(.tryAgainLater, mentions: "/var/lib/calico/nodename") {
            try c.resolveNodename(readFile: { _ in nil }, hostname: { "Host" })
        }
        c.nodenameFileOptional = true
        XCTAssertEqual(try c.resolveNodename(readFile: { _ in nil }, hostname: { "My-Host" }), "my-host")
    }

    func testConflistDerivation() throws {
        let list = try NetworkConfigList.decode(Data(#"""
        {"name":"k8s-pod-network","cniVersion":"0.3.1","plugins":[
          {"type":"calico","ipam":{"type":"calico-ipam"},"mtu":1440},
          {"type":"portmap","snat":true,"capabilities":{"portMappings":true}}]}
        """#.utf8))
        XCTAssertEqual(list.cniVersion, .v0_3_1)
        XCTAssertEqual(list.plugins.count, 2)
        let ports: JSONValue = json(#"[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]"#)
        let calico = list.executionConfig(plugin: 0, runtimeConfig: ["portMappings": ports])
        XCTAssertEqual(calico, json(#"{"type":"calico","ipam":{"type":"calico-ipam"},"mtu":1440,"name":"k8s-pod-network","cniVersion":"0.3.1"}"#))
        let c = try NetworkConfig.decode(calico)
        XCTAssertEqual(c.name, "k8s-pod-network")
        XCTAssertEqual(c.cniVersion, .v0_3_1)
        let prev = json(#"{"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.0.0.5/32"}]}"#)
        let portmap = list.executionConfig(plugin: 1, runtimeConfig: ["portMappings": ports, "bandwidth": .object([:])], prevResult: prev)
        XCTAssertEqual(portmap, .object(["type": .string("portmap"), "snat": .bool(true), "name": .string("k8s-pod-network"),
                                         "cniVersion": .string("0.3.1"), "runtimeConfig": .object(["portMappings": ports]),
                                         "prevResult": prev]))
        let multi = try NetworkConfigList.decode(Data(#"{"name":"n","cniVersion":"0.4.0","cniVersions":["1.0.0","2.0.0","1.1.0"],"plugins":[{"type":"calico"}]}"#.utf8))
        XCTAssertEqual(multi.cniVersion, .v1_1_0)
        assertCNIError(.incompatibleVersion, mentions: "2.0.0") {
            try NetworkConfigList.decode(Data(#"{"name":"n","cniVersions":["2.0.0"],"plugins":[{"type":"calico"}]}"#.utf8))
        }
        assertCNIError(.invalidNetworkConfig, mentions: "plugins[0].type") {
            try NetworkConfigList.decode(Data(#"{"name":"n","cniVersion":"1.0.0","plugins":[{}]}"#.utf8))
        }
    }
}
