@testable import Core
import Foundation
import XCTest
@testable import CNI

/// The plugin's API client holds one connection for the whole invocation: calico-ipam's three
/// parallel first reads, its writes and the Pod patch beside them queue for it instead of each
/// opening its own (a TLS handshake apiece), and still all succeed.
final class CNIPluginConnectionTests: XCTestCase {
    private var server: DevServer!
    private var dir = ""

    override func setUpWithError() throws {
        server = try DevServer.start()
        dir = NSTemporaryDirectory() + "cniconn-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        server?.stop()
        if let server { try? FileManager.default.removeItem(atPath: server.dataDir) }
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func ipam(_ command: String, _ containerID: String, _ config: Data, _ store: PluginDatastore) async -> PluginProcess.Outcome {
        let env = ["CNI_COMMAND": command, "CNI_CONTAINERID": containerID, "CNI_NETNS": "/var/run/netns/none", "CNI_IFNAME": "eth0",
                   "CNI_PATH": dir, "CNI_ARGS": "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=p-\(containerID)",
                   "CALICO_IPAM_LOCK_FILE": dir + "/ipam.lock"]
        return await CalicoIPAMPlugin.runInProcess(environment: env, stdin: config, api: { try store.api() })
    }

    func testOneConnectionPerInvocationForParallelRequests() async throws {
        let admin = try KubeClient(connection: try DatastoreConfig.load(environment: ["KUBECONFIG": server.tokenKubeconfig]))
        _ = try await admin.create(IPPool(metadata: ObjectMeta(name: "conn-pool"), spec: IPPoolSpec(cidr: "10.77.0.0/16", blockSize: 26)))
        let json = #"{"cniVersion":"1.0.0","name":"k8s-pod-network","type":"calico","nodename":"node-c","kubernetes":{"kubeconfig":"\#(server.tokenKubeconfig)"},"ipam":{"type":"calico-ipam"}}"#
        let config = try NetworkConfig.decode(Data(json.utf8))
        let store = PluginDatastore(config: config, environment: [:])
        let client = try XCTUnwrap(try store.api() as? KubeClient)

        // ADD: handle, pools and blocks read in parallel, then the block claim and handle writes.
        let add = await ipam("ADD", "c1", Data(json.utf8), store)
        XCTAssertEqual(add.status, 0, String(decoding: add.stdout, as: UTF8.self))
        XCTAssertTrue(String(decoding: add.stdout, as: UTF8.self).contains("10.77."))
        // More parallel requests on the same client, as the plugin's Pod patch runs beside IPAM.
        async let a = client.list(IPPool.self)
        async let b = client.list(IPAMBlock.self)
        async let c = client.list(IPAMHandle.self)
        let (pools, blocks, handles) = try await (a, b, c)
        XCTAssertEqual(pools.items.count, 1)
        XCTAssertEqual(blocks.items.count, 1)
        XCTAssertEqual(handles.items.map(\.metadata.name), ["k8s-pod-network.c1"])
        let del = await ipam("DEL", "c1", Data(json.utf8), store)
        XCTAssertEqual(del.status, 0, String(decoding: del.stdout, as: UTF8.self))
        let left = try await admin.list(IPAMHandle.self).items
        XCTAssertEqual(left.count, 0, "DEL released the handle")

        XCTAssertEqual(client.transport.connectionsOpened, 1, "every request of the invocation shared one connection")
        XCTAssertEqual(PluginDatastore.clientOptions.maxConnections, 1)
    }
}
