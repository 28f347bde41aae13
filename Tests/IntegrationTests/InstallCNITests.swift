import Core
import Foundation
import XCTest

/// The built `calico-node install-cni` writing into temporary directories.
final class InstallCNITests: XCTestCase {
    private var dir = ""
    private var kubeconfig = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "instcni-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        kubeconfig = dir + "/admin.kubeconfig"
        try """
        apiVersion: v1
        kind: Config
        clusters:
        - name: c
          cluster:
            server: https://10.96.0.1:443
            certificate-authority-data: \(Data("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".utf8).base64EncodedString())
        users:
        - name: u
          user:
            token: installtoken123
        contexts:
        - name: x
          context: {cluster: c, user: u}
        current-context: x
        """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    private func calicoNode() throws -> String {
        URL(fileURLWithPath: try DevServer.binaryPath()).deletingLastPathComponent().appendingPathComponent("calico-node").path
    }

    private func install(_ args: [String], env extra: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CNI_") && !$0.key.hasPrefix("K8S_") && $0.key != "NODENAME" }
        env["KUBECONFIG"] = kubeconfig
        env.merge(extra) { $1 }
        return try DevServer.run(try calicoNode(), ["install-cni"] + args, environment: env)
    }

    func testSymlinksConflistAndKubeconfig() throws {
        let r = try install(["--bin-dir", dir + "/bin", "--net-dir", dir + "/net.d", "--node-name", "node-7", "--mtu", "1450"])
        XCTAssertEqual(r.status, 0, r.err)
        let exe = try calicoNode()
        for name in ["calico", "calico-ipam"] {
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/bin/" + name)
            XCTAssertEqual(URL(fileURLWithPath: target).resolvingSymlinksInPath().path, URL(fileURLWithPath: exe).resolvingSymlinksInPath().path)
        }
        // The link runs as the plugin (argv[0] dispatch): VERSION answers with the spec versions.
        let version = try DevServer.run(dir + "/bin/calico", [], environment: ["CNI_COMMAND": "VERSION"], stdin: "{\"cniVersion\":\"1.0.0\"}")
        XCTAssertTrue(version.out.contains("supportedVersions"), version.out + version.err)

        let conflist = try JSONValue(data: Data(contentsOf: URL(fileURLWithPath: dir + "/net.d/10-calico.conflist")))
        let plugins = try XCTUnwrap(conflist["plugins"]?.arrayValue)
        XCTAssertEqual(plugins.map { $0["type"]?.stringValue }, ["calico", "portmap"])
        XCTAssertEqual(plugins[0]["nodename"]?.stringValue, "node-7")
        XCTAssertEqual(plugins[0]["mtu"]?.intValue, 1450)
        XCTAssertEqual(plugins[0]["ipam"]?["subnet"]?.stringValue, "usePodCidr")
        XCTAssertEqual(plugins[0]["kubernetes"]?["kubeconfig"]?.stringValue, dir + "/net.d/calico-kubeconfig")

        let kc = dir + "/net.d/calico-kubeconfig"
        let mode = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: kc)[.posixPermissions] as? Int)
        XCTAssertEqual(mode, 0o600)
        // The plugin's kubeconfig reaches the same server with the same credentials.
        let conn = try DatastoreConfig.load(environment: ["KUBECONFIG": kc])
        XCTAssertEqual(conn.server, "https://10.96.0.1:443")
        XCTAssertEqual(conn.token, "installtoken123")
        XCTAssertNotNil(conn.caPEM)
        // The token is never printed.
        XCTAssertFalse((r.out + r.err).contains("installtoken123"))
        // No temporary files left behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/net.d").sorted(), ["10-calico.conflist", "calico-kubeconfig"])

        // A second run replaces everything in place.
        let again = try install(["--bin-dir", dir + "/bin", "--net-dir", dir + "/net.d", "--node-name", "node-8", "--ipam", "calico-ipam",
                                 "--ipv4-pool", "192.168.0.0/16"])
        XCTAssertEqual(again.status, 0, again.err)
        let second = try JSONValue(data: Data(contentsOf: URL(fileURLWithPath: dir + "/net.d/10-calico.conflist")))["plugins"]?.arrayValue?.first
        XCTAssertEqual(second?["nodename"]?.stringValue, "node-8")
        XCTAssertEqual(second?["ipam"]?["type"]?.stringValue, "calico-ipam")
        XCTAssertEqual(second?["ipam"]?["ipv4_pools"], .array([.string("192.168.0.0/16")]))
    }

    func testEnvironmentConfigurationAndCopy() throws {
        let r = try install(["--copy"], env: ["CNI_BIN_DIR": dir + "/opt", "CNI_NET_DIR": dir + "/etc", "CNI_CONF_NAME": "20-x.conflist",
                                              "KUBERNETES_NODE_NAME": "env-node", "CNI_MTU": "1400",
                                              "CNI_NETWORK_CONFIG": #"{"name":"n","cniVersion":"0.3.1","plugins":[{"type":"calico","nodename":"__KUBERNETES_NODE_NAME__","mtu":__CNI_MTU__,"kubernetes":{"kubeconfig":"__KUBECONFIG_FILEPATH__"}}]}"#])
        XCTAssertEqual(r.status, 0, r.err)
        let attrs = try FileManager.default.attributesOfItem(atPath: dir + "/opt/calico")
        XCTAssertEqual(attrs[.type] as? FileAttributeType, .typeRegular)
        XCTAssertEqual(attrs[.posixPermissions] as? Int, 0o755)
        let original = try FileManager.default.attributesOfItem(atPath: URL(fileURLWithPath: try calicoNode()).resolvingSymlinksInPath().path)
        XCTAssertEqual(attrs[.size] as? Int, original[.size] as? Int)
        let conf = try JSONValue(data: Data(contentsOf: URL(fileURLWithPath: dir + "/etc/20-x.conflist")))
        XCTAssertEqual(conf["cniVersion"]?.stringValue, "0.3.1")
        let p = conf["plugins"]?.arrayValue?.first
        XCTAssertEqual(p?["nodename"]?.stringValue, "env-node")
        XCTAssertEqual(p?["mtu"]?.intValue, 1400)
        XCTAssertEqual(p?["kubernetes"]?["kubeconfig"]?.stringValue, dir + "/etc/calico-kubeconfig")
    }

    func testBadTemplateWritesNothing() throws {
        let r = try install(["--bin-dir", dir + "/bin", "--net-dir", dir + "/net.d", "--network-config", #"{"plugins":[{"type":"calico","x":"__TYPO__"}]}"#])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("__TYPO__"), r.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/net.d"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/bin"))
        let mtu = try install(["--net-dir", dir + "/net.d", "--skip-binaries"], env: ["CNI_MTU": "huge"])
        XCTAssertNotEqual(mtu.status, 0)
        XCTAssertTrue(mtu.err.contains("CNI_MTU"), mtu.err)
    }
}
