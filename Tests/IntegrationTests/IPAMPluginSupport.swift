import Core
import Foundation
import XCTest

/// Runs the built binary as `calico-ipam` (a symlink in a temporary directory, as the CNI bin
/// dir holds it) against a development API server, with a private lock file.
final class IPAMPluginHarness: @unchecked Sendable {
    let server: DevServer
    let api: KubeClient
    let dir: String
    let binary: String

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any] }
    }

    init() throws {
        server = try DevServer.start()
        api = try KubeClient(connection: try DatastoreConfig.load(environment: ["KUBECONFIG": server.tokenKubeconfig]))
        dir = NSTemporaryDirectory() + "ipamtest-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let nodeBinary = URL(fileURLWithPath: try DevServer.binaryPath()).deletingLastPathComponent().appendingPathComponent("calico-node").path
        guard FileManager.default.isExecutableFile(atPath: nodeBinary) else {
            throw DevServerError("calico-node not built at \(nodeBinary); run `swift build --product calico-node`")
        }
        binary = dir + "/calico-ipam"
        try FileManager.default.createSymbolicLink(atPath: binary, withDestinationPath: nodeBinary)
    }

    func shutdown() {
        server.stop()
        try? FileManager.default.removeItem(atPath: dir)
        try? FileManager.default.removeItem(atPath: server.dataDir)
    }

    func addPool(_ name: String, _ cidr: String, blockSize: Int? = nil) async throws {
        _ = try await api.create(IPPool(metadata: ObjectMeta(name: name), spec: IPPoolSpec(cidr: cidr, blockSize: blockSize)))
    }

    func config(version: String = "1.0.0", node: String = "node-a", ipam: [String: Any] = [:], prevResult: Any? = nil) -> String {
        var ipamSection: [String: Any] = ["type": "calico-ipam"]
        ipamSection.merge(ipam) { $1 }
        var c: [String: Any] = ["cniVersion": version, "name": "k8s-pod-network", "type": "calico", "nodename": node,
                                "datastore_type": "kubernetes", "kubernetes": ["kubeconfig": server.tokenKubeconfig], "ipam": ipamSection]
        if let prevResult { c["prevResult"] = prevResult }
        return String(decoding: try! JSONSerialization.data(withJSONObject: c, options: [.sortedKeys]), as: UTF8.self)
    }

    /// Starts one plugin run without waiting for it.
    func start(_ command: String, containerID: String, config: String, node: String = "node-a", extraArgs: String = "") throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.environment = [
            "CNI_COMMAND": command, "CNI_CONTAINERID": containerID, "CNI_NETNS": "/var/run/netns/ipamtest-\(containerID)",
            "CNI_IFNAME": "eth0", "CNI_PATH": dir,
            "CNI_ARGS": "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=pod-\(containerID);K8S_POD_INFRA_CONTAINER_ID=\(containerID)\(extraArgs)",
            // One lock file per simulated node, as each node has its own /var/run.
            "CALICO_IPAM_LOCK_FILE": "\(dir)/\(node)/ipam.lock",
        ]
        let input = Pipe(), out = Pipe(), err = Pipe()
        p.standardInput = input
        p.standardOutput = out
        p.standardError = err
        try p.run()
        input.fileHandleForWriting.write(Data(config.utf8))
        try input.fileHandleForWriting.close()
        return p
    }

    /// Waits for a started run; its output is small enough to sit in the pipes until then.
    func finish(_ p: Process) -> Output {
        let out = (p.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile()
        let err = (p.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }

    func run(_ command: String, containerID: String, config: String, node: String = "node-a", extraArgs: String = "") throws -> Output {
        finish(try start(command, containerID: containerID, config: config, node: node, extraArgs: extraArgs))
    }

    /// Every address the blocks record as allocated, and every handle.
    func allocations() async throws -> (addresses: [String], handles: [String]) {
        var out: [String] = []
        for b in try await api.list(IPAMBlock.self).items {
            let net = IPNet(parsing: b.spec.cidr)!
            for (o, a) in b.spec.allocations.enumerated() where a != nil {
                out.append(IPAMAddressMathForTests.address(net, o))
            }
        }
        let handles = try await api.list(IPAMHandle.self).items.map(\.metadata.name)
        return (out.sorted(), handles.sorted())
    }
}

/// The address at an ordinal, computed independently of the code under test.
enum IPAMAddressMathForTests {
    static func address(_ block: IPNet, _ ordinal: Int) -> String {
        var bytes = block.bytes
        var carry = ordinal
        for i in bytes.indices.reversed() where carry > 0 {
            let sum = Int(bytes[i]) + carry
            bytes[i] = UInt8(sum & 0xff)
            carry = sum >> 8
        }
        return IPNet(bytes: bytes, prefixLength: bytes.count * 8)!.addressText
    }
}
