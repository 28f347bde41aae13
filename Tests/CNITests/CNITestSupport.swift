import Core
import Foundation
import XCTest
@testable import CNI

/// Shared fixtures: a Calico network config as install-cni writes it, and environments.
enum Fixture {
    static func config(version: String = "1.0.0", extra: [String: JSONValue] = [:], remove: [String] = []) -> Data {
        var o: [String: JSONValue] = [
            "cniVersion": .string(version),
            "name": .string("k8s-pod-network"),
            "type": .string("calico"),
            "datastore_type": .string("kubernetes"),
            "nodename": .string("node-1"),
            "mtu": .int(1440),
            "log_level": .string("info"),
            "log_file_path": .string("/var/log/calico/cni/cni.log"),
            "ipam": .object(["type": .string("host-local"), "subnet": .string("usePodCidr")]),
            "policy": .object(["type": .string("k8s")]),
            "kubernetes": .object(["kubeconfig": .string("/etc/cni/net.d/calico-kubeconfig")]),
        ]
        for (k, v) in extra { o[k] = v }
        for k in remove { o.removeValue(forKey: k) }
        return try! JSONValue.object(o).data()
    }

    static func env(_ command: String, netns: String? = "/var/run/netns/pod1",
                    args: String = "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=nginx;K8S_POD_INFRA_CONTAINER_ID=abc123",
                    remove: [String] = []) -> [String: String] {
        var e = ["CNI_COMMAND": command, "CNI_CONTAINERID": "abc123", "CNI_IFNAME": "eth0",
                 "CNI_ARGS": args, "CNI_PATH": "/opt/cni/bin:/usr/lib/cni"]
        if let netns { e["CNI_NETNS"] = netns }
        for k in remove { e.removeValue(forKey: k) }
        return e
    }
}

/// Asserts that `body` throws a CNIError with `code` whose message contains `mentions`.
func assertCNIError<T>(_ code: ErrorCode, mentions: String, file: StaticString = #filePath, line: UInt = #line,
                       _ body: () throws -> T) {
    checkCNIError(Result { try body() }, code, mentions, file, line)
}

/// The same for async work.
func assertCNIError<T>(_ code: ErrorCode, mentions: String, file: StaticString = #filePath, line: UInt = #line,
                       _ body: () async throws -> T) async {
    let outcome: Result<T, Error>
    do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
    checkCNIError(outcome, code, mentions, file, line)
}

private func checkCNIError<T>(_ outcome: Result<T, Error>, _ code: ErrorCode, _ mentions: String, _ file: StaticString, _ line: UInt) {
    switch outcome {
    case .success:
        XCTFail("expected CNI error \(code.rawValue) mentioning \(mentions)", file: file, line: line)
    case .failure(let error as CNIError):
        XCTAssertEqual(error.code, code.rawValue, error.msg, file: file, line: line)
        XCTAssertTrue(error.msg.contains(mentions), "message \"\(error.msg)\" lacks \"\(mentions)\"", file: file, line: line)
    case .failure(let error):
        XCTFail("expected a CNIError, got \(error)", file: file, line: line)
    }
}

func json(_ text: String) -> JSONValue { try! JSONValue(data: Data(text.utf8)) }
func json(_ data: Data) -> JSONValue { try! JSONValue(data: data) }
