import Core
import Foundation
import XCTest
@testable import CNI

final class InstallRenderTests: XCTestCase {
    private func settings(_ configure: (inout InstallSettings) -> Void = { _ in }) -> InstallSettings {
        var s = InstallSettings(nodeName: "node-1")
        s.netDir = "/etc/cni/net.d"
        configure(&s)
        return s
    }

    func testDefaultConflistChainsCalicoWithPortmapAndHostLocalPodCIDR() throws {
        let text = try ConflistRenderer.render(settings())
        let json = try JSONValue(data: Data(text.utf8))
        XCTAssertEqual(json["name"]?.stringValue, "k8s-pod-network")
        XCTAssertEqual(json["cniVersion"]?.stringValue, "1.0.0")
        let plugins = try XCTUnwrap(json["plugins"]?.arrayValue)
        XCTAssertEqual(plugins.count, 2)
        let calico = plugins[0]
        XCTAssertEqual(calico["type"]?.stringValue, "calico")
        XCTAssertEqual(calico["datastore_type"]?.stringValue, "kubernetes")
        XCTAssertEqual(calico["nodename"]?.stringValue, "node-1")
        XCTAssertEqual(calico["mtu"]?.intValue, 1500)
        XCTAssertEqual(calico["log_level"]?.stringValue, "info")
        XCTAssertEqual(calico["ipam"], .object(["type": .string("host-local"), "subnet": .string("usePodCidr")]))
        XCTAssertEqual(calico["policy"]?["type"]?.stringValue, "k8s")
        XCTAssertEqual(calico["kubernetes"]?["kubeconfig"]?.stringValue, "/etc/cni/net.d/calico-kubeconfig")
        XCTAssertEqual(plugins[1], .object(["type": .string("portmap"), "snat": .bool(true),
                                            "capabilities": .object(["portMappings": .bool(true)])]))
        // The result is a list a runtime accepts.
        XCTAssertNoThrow(try NetworkConfigList.decode(Data(text.utf8)))
    }

    func testCalicoIPAMWithPoolsAndMTU() throws {
        let text = try ConflistRenderer.render(settings {
            $0.ipam = .calico
            $0.ipv4Pools = ["192.168.0.0/16", "10.9.0.0/16"]
            $0.mtu = 1440
        })
        let calico = try XCTUnwrap(JSONValue(data: Data(text.utf8))["plugins"]?.arrayValue?.first)
        XCTAssertEqual(calico["mtu"]?.intValue, 1440)
        XCTAssertEqual(calico["ipam"]?["type"]?.stringValue, "calico-ipam")
        XCTAssertEqual(calico["ipam"]?["assign_ipv4"]?.stringValue, "true")
        XCTAssertEqual(calico["ipam"]?["ipv4_pools"], .array([.string("192.168.0.0/16"), .string("10.9.0.0/16")]))
    }

    func testHostLocalDataDirAndEscapedNodeName() throws {
        let text = try ConflistRenderer.render(settings {
            $0.hostLocalDataDir = "/tmp/x/ipam"
            $0.nodeName = "we\"ird\\node"
            $0.netDir = "/tmp/net d"
        })
        let calico = try XCTUnwrap(JSONValue(data: Data(text.utf8))["plugins"]?.arrayValue?.first)
        XCTAssertEqual(calico["ipam"]?["dataDir"]?.stringValue, "/tmp/x/ipam")
        XCTAssertEqual(calico["nodename"]?.stringValue, "we\"ird\\node")
        XCTAssertEqual(calico["kubernetes"]?["kubeconfig"]?.stringValue, "/tmp/net d/calico-kubeconfig")
    }

    func testCustomTemplatePlaceholders() throws {
        let template = """
        {"name":"custom","cniVersion":"0.3.1","plugins":[{"type":"calico","mtu":__CNI_MTU__,
         "nodename":"__KUBERNETES_NODE_NAME__","kubernetes":{"kubeconfig":"__KUBECONFIG_FILEPATH__",
         "k8s_api_root":"https://__KUBERNETES_SERVICE_HOST__:__KUBERNETES_SERVICE_PORT__"}}]}
        """
        let text = try ConflistRenderer.render(settings { $0.networkConfigTemplate = template; $0.mtu = 9000 },
                                               environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"])
        let p = try XCTUnwrap(JSONValue(data: Data(text.utf8))["plugins"]?.arrayValue?.first)
        XCTAssertEqual(p["mtu"]?.intValue, 9000)
        XCTAssertEqual(p["nodename"]?.stringValue, "node-1")
        XCTAssertEqual(p["kubernetes"]?["k8s_api_root"]?.stringValue, "https://10.96.0.1:443")
    }

    func testBadTemplatesAreRejectedWithTheReason() {
        func failure(_ template: String, confName: String = "10-calico.conflist") -> String {
            do {
                _ = try ConflistRenderer.render(settings { $0.networkConfigTemplate = template; $0.confName = confName })
                return "no error"
            } catch { return error.description }
        }
        XCTAssertTrue(failure(#"{"plugins":[{"type":"calico","x":"__NOPE__"}]}"#).contains("__NOPE__"))
        XCTAssertTrue(failure(#"{"plugins":[{"type":"calico"}"#).contains("not valid JSON"))
        XCTAssertTrue(failure(#"{"name":"x"}"#).contains("plugins"))
        XCTAssertTrue(failure(#"{"plugins":[{"mtu":1}]}"#).contains("plugins[0]"))
        XCTAssertTrue(failure(#"{"name":"x"}"#, confName: "10-calico.conf").contains("type"))
        XCTAssertEqual(failure(#"{"name":"x","type":"calico"}"#, confName: "10-calico.conf"), "no error")
    }

    func testSettingsFromEnvironment() throws {
        let env = ["CNI_BIN_DIR": "/b", "CNI_NET_DIR": "/n", "CNI_CONF_NAME": "20-x.conflist", "CNI_MTU": "1400",
                   "CNI_IPAM_TYPE": "calico", "CALICO_IPV4POOL_CIDR": "10.0.0.0/8, 172.16.0.0/12",
                   "KUBERNETES_NODE_NAME": "k-node", "NODENAME": "other", "CNI_COPY_BINARIES": "true",
                   "CNI_NETWORK_CONFIG": "{}", "CNI_IPAM_DATA_DIR": "/d"]
        let s = try InstallSettings.fromEnvironment(env, hostname: "host") { _ in nil }
        XCTAssertEqual(s.binDir, "/b")
        XCTAssertEqual(s.netDir, "/n")
        XCTAssertEqual(s.conflistPath, "/n/20-x.conflist")
        XCTAssertEqual(s.kubeconfigPath, "/n/calico-kubeconfig")
        XCTAssertEqual(s.mtu, 1400)
        XCTAssertEqual(s.ipam, .calico)
        XCTAssertEqual(s.ipv4Pools, ["10.0.0.0/8", "172.16.0.0/12"])
        XCTAssertEqual(s.nodeName, "k-node")
        XCTAssertTrue(s.copyBinaries)
        XCTAssertEqual(s.networkConfigTemplate, "{}")
        XCTAssertEqual(s.hostLocalDataDir, "/d")
    }

    func testSettingsDefaultsAndNodeNameOrder() throws {
        let d = try InstallSettings.fromEnvironment(["CNI_MTU": "  "], hostname: "host") { _ in nil }
        XCTAssertEqual(d.binDir, "/opt/cni/bin")
        XCTAssertEqual(d.conflistPath, "/etc/cni/net.d/10-calico.conflist")
        XCTAssertEqual(d.ipam, .hostLocal)
        XCTAssertEqual(d.mtu, 1500)
        XCTAssertEqual(d.nodeName, "host")
        XCTAssertFalse(d.copyBinaries)
        let fromFile = try InstallSettings.fromEnvironment([:], hostname: "host") { $0 == "/var/lib/calico/nodename" ? "file-node\n" : nil }
        XCTAssertEqual(fromFile.nodeName, "file-node")
        let fromNodename = try InstallSettings.fromEnvironment(["NODENAME": "n"], hostname: "host") { _ in "file-node" }
        XCTAssertEqual(fromNodename.nodeName, "n")
        let template = try InstallSettings.fromEnvironment(["CNI_NETWORK_CONFIG_FILE": "/t"], hostname: "h") { $0 == "/t" ? "TEMPLATE" : nil }
        XCTAssertEqual(template.networkConfigTemplate, "TEMPLATE")
    }

    func testInvalidSettingsNameTheVariable() {
        XCTAssertThrowsError(try InstallSettings.fromEnvironment(["CNI_MTU": "big"], hostname: "h") { _ in nil }) {
            XCTAssertTrue("\($0)".contains("CNI_MTU"))
        }
        XCTAssertThrowsError(try InstallSettings.fromEnvironment(["CNI_IPAM_TYPE": "dhcp"], hostname: "h") { _ in nil }) {
            XCTAssertTrue("\($0)".contains("CNI_IPAM_TYPE"))
        }
        XCTAssertThrowsError(try InstallSettings.fromEnvironment(["CNI_NETWORK_CONFIG_FILE": "/missing"], hostname: "h") { _ in nil }) {
            XCTAssertTrue("\($0)".contains("/missing"))
        }
    }

    func testKubeconfigWithTokenAndCA() throws {
        let ca = Data("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".utf8)
        let c = ClusterConnection(server: "https://172.31.0.1:6443", caPEM: ca, token: "s3cret")
        let text = PluginKubeconfig.render(c, token: try PluginKubeconfig.token(of: c) { _ in nil })
        XCTAssertTrue(text.contains("server: \"https://172.31.0.1:6443\""))
        XCTAssertTrue(text.contains("certificate-authority-data: \(ca.base64EncodedString())"))
        XCTAssertTrue(text.contains("token: \"s3cret\""))
        XCTAssertTrue(text.contains("current-context: calico-context"))
        // Our own kubeconfig reader accepts it and yields the same connection.
        let dir = NSTemporaryDirectory() + "inst-kc-\(getpid())-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try text.write(toFile: dir + "/kc", atomically: true, encoding: .utf8)
        let back = try DatastoreConfig.load(environment: ["KUBECONFIG": dir + "/kc"])
        XCTAssertEqual(back.server, c.server)
        XCTAssertEqual(back.caPEM, c.caPEM)
        XCTAssertEqual(back.token, "s3cret")
    }

    func testKubeconfigFromServiceAccountTokenFileAndClientCert() throws {
        let sa = ClusterConnection(server: "https://10.96.0.1:443", tokenFile: "/sa/token")
        XCTAssertEqual(try PluginKubeconfig.token(of: sa) { $0 == "/sa/token" ? "tok\n" : nil }, "tok")
        XCTAssertThrowsError(try PluginKubeconfig.token(of: sa) { _ in nil })
        let cert = ClusterConnection(server: "https://s:1", insecureSkipTLSVerify: true,
                                     clientCertPEM: Data("C".utf8), clientKeyPEM: Data("K".utf8))
        let text = PluginKubeconfig.render(cert, token: nil)
        XCTAssertTrue(text.contains("insecure-skip-tls-verify: true"))
        XCTAssertTrue(text.contains("client-certificate-data: \(Data("C".utf8).base64EncodedString())"))
        XCTAssertTrue(text.contains("client-key-data: \(Data("K".utf8).base64EncodedString())"))
        XCTAssertFalse(text.contains("token:"))
    }
}
