import Core
import Foundation
import IPAM
import XCTest
@testable import CNI

/// host-local's usePodCidr substitution, its store format, and IPAM delegation (with a fake
/// process runner): environment, stdin, error relaying and version negotiation.
final class PluginIPAMTests: XCTestCase {
    func testUsePodCidrTopLevelAndRanges() throws {
        let cidrs = ["10.244.3.0/24", "fd00:3::/64"]
        let top = json(#"{"type":"host-local","subnet":"usePodCidr","dataDir":"/d"}"#)
        XCTAssertTrue(HostLocalPodCIDR.needsPodCIDR(top))
        let out = try HostLocalPodCIDR.substitute(top, podCIDRs: cidrs)
        XCTAssertEqual(out["subnet"]?.stringValue, "10.244.3.0/24")
        XCTAssertEqual(out["dataDir"]?.stringValue, "/d")

        let ranges = json(#"{"type":"host-local","ranges":[[{"subnet":"usePodCidr","rangeStart":"x"}],[{"subnet":"usePodCidrIPv6"}],[{"subnet":"10.9.0.0/16"}]]}"#)
        XCTAssertTrue(HostLocalPodCIDR.needsPodCIDR(ranges))
        let r = try HostLocalPodCIDR.substitute(ranges, podCIDRs: cidrs)["ranges"]?.arrayValue ?? []
        XCTAssertEqual(r.map { $0.arrayValue?.first?["subnet"]?.stringValue }, ["10.244.3.0/24", "fd00:3::/64", "10.9.0.0/16"])
        XCTAssertEqual(r.first?.arrayValue?.first?["rangeStart"]?.stringValue, "x")

        XCTAssertFalse(HostLocalPodCIDR.needsPodCIDR(json(#"{"type":"host-local","subnet":"10.0.0.0/8"}"#)))
    }

    func testMissingFamilyNamesTheFieldAndWhatTheNodeHas() {
        let v6 = json(#"{"type":"host-local","ranges":[[{"subnet":"usePodCidrIPv6"}]]}"#)
        XCTAssertThrowsError(try HostLocalPodCIDR.substitute(v6, podCIDRs: ["10.0.0.0/24"])) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("ipam.ranges[0][0].subnet"), text)
            XCTAssertTrue(text.contains("IPv6"), text)
            XCTAssertTrue(text.contains("10.0.0.0/24"), text)
        }
        XCTAssertThrowsError(try HostLocalPodCIDR.substitute(json(#"{"subnet":"usePodCidr"}"#), podCIDRs: []))
    }

    func testNodePodCIDRsPreferTheList() {
        var n = K8sNode(metadata: ObjectMeta(name: "n"), spec: K8sNodeSpec(podCIDR: "10.0.0.0/24"))
        XCTAssertEqual(n.podCIDRs, ["10.0.0.0/24"])
        n.spec?.podCIDRs = ["10.0.0.0/24", "fd00::/64"]
        XCTAssertEqual(n.podCIDRs, ["10.0.0.0/24", "fd00::/64"])
        XCTAssertEqual(K8sNode(metadata: ObjectMeta(name: "n")).podCIDRs, [])
    }

    func testUsePodCidrReadsTheNodeFromTheAPI() async throws {
        let api = InMemoryKubeAPI()
        _ = try await api.create(K8sNode(metadata: ObjectMeta(name: "node-1"), spec: K8sNodeSpec(podCIDR: "10.7.0.0/24")))
        let out = try await HostLocalPodCIDR.resolve(json(#"{"type":"host-local","subnet":"usePodCidr"}"#), node: "node-1", api: { api })
        XCTAssertEqual(out["subnet"]?.stringValue, "10.7.0.0/24")
        // Without a marker the API is never asked.
        let plain = json(#"{"type":"host-local","subnet":"10.1.0.0/16"}"#)
        let same = try await HostLocalPodCIDR.resolve(plain, node: "node-1", api: { throw KubeError.transport("must not be called") })
        XCTAssertEqual(same, plain)
    }

    func testHostLocalStoreFormat() {
        XCTAssertEqual(HostLocalStore.parse(address: "10.0.0.5", contents: "abc\r\neth0"),
                       HostLocalStore.Reservation(address: "10.0.0.5", containerID: "abc", ifName: "eth0"))
        XCTAssertEqual(HostLocalStore.parse(address: "10.0.0.5", contents: "abc")?.ifName, nil)
        XCTAssertNil(HostLocalStore.parse(address: "10.0.0.5", contents: ""))
        XCTAssertEqual(HostLocalStore.dataDir(ipamDataDir: nil), "/var/lib/cni/networks")
    }

    // MARK: delegation

    /// A CNI_PATH with an executable `fake-ipam`, and a runner that records calls and answers
    /// from `answer(command, stdin)`.
    private final class Recorder: @unchecked Sendable {
        let lock = NSLock()
        var calls: [(command: String, env: [String: String], stdin: JSONValue?)] = []
    }

    private func delegate(_ answer: @escaping @Sendable (String, JSONValue?) -> PluginProcess.Outcome) throws -> (IPAMDelegate, Recorder) {
        let dir = NSTemporaryDirectory() + "plugin-ipam-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir + "/fake-ipam", contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o755])
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        let rec = Recorder()
        let d = IPAMDelegate(type: "fake-ipam", paths: ["/nonexistent", dir], environment: ["CNI_COMMAND": "ADD", "CNI_CONTAINERID": "c1"]) { (path, env, stdin) throws(CNIError) in
            XCTAssertTrue(path.hasSuffix("/fake-ipam"))
            let cmd = env["CNI_COMMAND"] ?? ""
            let parsed = stdin.isEmpty ? nil : try? JSONValue(data: stdin)
            rec.lock.withLock { rec.calls.append((cmd, env, parsed)) }
            return answer(cmd, parsed)
        }
        return (d, rec)
    }

    private func config(_ version: String, prev: Bool = false) throws -> NetworkConfig {
        var extra: [String: JSONValue] = ["ipam": json(#"{"type":"fake-ipam"}"#)]
        if prev { extra["prevResult"] = json(#"{"cniVersion":"1.1.0","ips":[{"address":"10.0.0.5/32"}]}"#) }
        return try NetworkConfig.decode(Fixture.config(version: version, extra: extra))
    }

    private static func ok(_ text: String) -> PluginProcess.Outcome { PluginProcess.Outcome(status: 0, stdout: Data(text.utf8)) }
    private static func fail(_ text: String, status: Int32 = 1) -> PluginProcess.Outcome { PluginProcess.Outcome(status: status, stdout: Data(text.utf8)) }

    func testAddPassesTheConfigAndReadsTheResult() async throws {
        let (d, rec) = try delegate { _, _ in Self.ok(#"{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.9/24","gateway":"10.0.0.1"}]}"#) }
        let ipam = json(#"{"type":"fake-ipam","subnet":"10.0.0.0/24"}"#)
        let r = try await d.add(try config("1.0.0"), ipam: ipam)
        XCTAssertEqual(r.ips.map(\.address.description), ["10.0.0.9/24"])
        XCTAssertEqual(rec.calls.count, 1)
        XCTAssertEqual(rec.calls[0].command, "ADD")
        XCTAssertEqual(rec.calls[0].env["CNI_CONTAINERID"], "c1")
        XCTAssertEqual(rec.calls[0].stdin?["ipam"], ipam)
        XCTAssertEqual(rec.calls[0].stdin?["name"]?.stringValue, "k8s-pod-network")
    }

    func testOlderDelegateIsNegotiatedDown() async throws {
        let (d, rec) = try delegate { cmd, stdin in
            if cmd == "VERSION" { return Self.ok(#"{"cniVersion":"1.0.0","supportedVersions":["0.3.1","0.4.0","1.0.0"]}"#) }
            if stdin?["cniVersion"]?.stringValue == "1.1.0" { return Self.fail(#"{"code":1,"msg":"incompatible CNI versions"}"#) }
            return Self.ok(#"{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.9/24"}]}"#)
        }
        _ = try await d.add(try config("1.1.0"), ipam: json(#"{"type":"fake-ipam"}"#))
        XCTAssertEqual(rec.calls.map(\.command), ["ADD", "VERSION", "ADD"])
        XCTAssertEqual(rec.calls[2].stdin?["cniVersion"]?.stringValue, "1.0.0")

        // CHECK re-encodes prevResult in the negotiated version.
        rec.calls.removeAll()
        try await d.check(try config("1.1.0", prev: true), ipam: json(#"{"type":"fake-ipam"}"#))
        XCTAssertEqual(rec.calls.last?.stdin?["prevResult"]?["cniVersion"]?.stringValue, "1.0.0")

        // GC needs 1.1.0, which this delegate lacks: code 1 stays.
        rec.calls.removeAll()
        await assertCNIError(.incompatibleVersion, mentions: "not GC") {
            try await d.gc(try self.config("1.1.0"), ipam: json(#"{"type":"fake-ipam"}"#))
        }
        XCTAssertEqual(rec.calls.map(\.command), ["VERSION"], "GC is not sent to a delegate without 1.1.0")
        XCTAssertEqual(IPAMDelegate.bestCommon(["0.3.1", "0.4.0", "1.0.0"], below: .v1_1_0, command: .check), .v1_0_0)
        XCTAssertEqual(IPAMDelegate.bestCommon(["0.3.1"], below: .v1_1_0, command: .check), nil)
    }

    func testFailuresAreRelayedOrExplained() async throws {
        let (relay, _) = try delegate { _, _ in Self.fail(#"{"code":11,"msg":"pool busy","details":"d"}"#) }
        do {
            _ = try await relay.add(try config("1.0.0"), ipam: .object([:]))
            XCTFail("a failing delegate's error is relayed")
        } catch {
            XCTAssertEqual(error as? CNIError, CNIError(code: 11, msg: "pool busy", details: "d"))
        }
        let (crash, _) = try delegate { _, _ in Self.fail("panic: boom", status: 2) }
        await assertCNIError(.ipamFailure, mentions: "exited with status 2: panic: boom") {
            try await crash.add(try self.config("1.0.0"), ipam: .object([:]))
        }
        let (full, _) = try delegate { _, _ in Self.fail(#"{"code":999,"msg":"failed to allocate for range 0: no IP addresses available in range set"}"#) }
        await assertCNIError(.tryAgainLater, mentions: "no IP addresses available") {
            try await full.add(try self.config("1.0.0"), ipam: .object([:]))
        }
        let (garbage, _) = try delegate { _, _ in Self.ok("not json") }
        await assertCNIError(.decodeFailure, mentions: "IPAM plugin fake-ipam result") {
            try await garbage.add(try self.config("1.0.0"), ipam: .object([:]))
        }
        let missing = IPAMDelegate(type: "nope", paths: ["/nonexistent"], environment: [:])
        await assertCNIError(.invalidNetworkConfig, mentions: "no executable nope in CNI_PATH") {
            try await missing.add(try self.config("1.0.0"), ipam: .object([:]))
        }
    }

    func testRealProcessRunnerPassesStdinEnvironmentAndStatus() throws {
        let dir = NSTemporaryDirectory() + "plugin-proc-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = dir + "/echo-ipam"
        try "#!/bin/sh\necho \"$CNI_COMMAND\"; cat; exit 4\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let big = String(repeating: "x", count: 100_000)
        let out = try PluginProcess.run(path: script, environment: ["CNI_COMMAND": "DEL"], stdin: Data(big.utf8))
        XCTAssertEqual(out.status, 4)
        XCTAssertEqual(String(decoding: out.stdout, as: UTF8.self), "DEL\n" + big)
    }
}
