import Core
import Foundation
import XCTest
@testable import CNI

final class DispatcherTests: XCTestCase {
    private func output(_ env: [String: String], _ stdin: Data = Fixture.config(),
                        file: StaticString = #filePath, line: UInt = #line) -> PluginOutput? {
        guard case .respond(let o) = CNIDispatcher.dispatch(environment: env, stdin: stdin) else {
            XCTFail("expected an immediate output", file: file, line: line)
            return nil
        }
        return o
    }

    private func request(_ env: [String: String], _ stdin: Data = Fixture.config(),
                         file: StaticString = #filePath, line: UInt = #line) -> CNIRequest? {
        switch CNIDispatcher.dispatch(environment: env, stdin: stdin) {
        case .perform(let r): return r
        case .respond(let o):
            XCTFail("expected a request, got \(String(decoding: o.stdout, as: UTF8.self))", file: file, line: line)
            return nil
        }
    }

    func testVersionNeedsNothingElse() throws {
        let o = try XCTUnwrap(output(["CNI_COMMAND": "VERSION"], Data()))
        XCTAssertEqual(o.exitCode, 0)
        XCTAssertEqual(json(o.stdout), json(#"{"cniVersion":"1.1.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}"#))
        XCTAssertEqual(String(decoding: o.stdout, as: UTF8.self),
                       "{\"cniVersion\":\"1.1.0\",\"supportedVersions\":[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]}\n")
    }

    func testAddBecomesARequestWithPodIdentity() throws {
        guard case .add(let r) = try XCTUnwrap(request(Fixture.env("ADD"))) else { return XCTFail("not ADD") }
        XCTAssertEqual(r.containerID, "abc123")
        XCTAssertEqual(r.ifName, "eth0")
        XCTAssertEqual(r.netns, "/var/run/netns/pod1")
        XCTAssertEqual(r.podNamespace, "default")
        XCTAssertEqual(r.podName, "nginx")
        XCTAssertEqual(r.paths, ["/opt/cni/bin", "/usr/lib/cni"])
        XCTAssertEqual(r.config.ipam.type, "host-local")
    }

    func testDelWithoutNetns() throws {
        guard case .del(let r) = try XCTUnwrap(request(Fixture.env("DEL", netns: nil))) else { return XCTFail("not DEL") }
        XCTAssertNil(r.netns)
    }

    func testErrorOutputShape() throws {
        let o = try XCTUnwrap(output(Fixture.env("ADD", netns: nil)))
        XCTAssertEqual(o.exitCode, 1)
        XCTAssertEqual(json(o.stdout), json(#"{"cniVersion":"1.0.0","code":4,"msg":"required environment variables missing for ADD: CNI_NETNS"}"#))
        let e = CNIError(.tryAgainLater, "datastore busy", details: "retry")
        XCTAssertEqual(json(PluginOutput.error(e, version: .v0_3_1).stdout),
                       json(#"{"cniVersion":"0.3.1","code":11,"msg":"datastore busy","details":"retry"}"#))
        XCTAssertEqual(CNIError.decode(PluginOutput.error(e).stdout), e)
        XCTAssertNil(CNIError.decode(Data("not json".utf8)))
    }

    func testCodesThroughTheDispatcher() throws {
        let cases: [(Data, Int)] = [
            (Data("{{".utf8), 6),
            (Fixture.config(version: "2.0.0"), 1),
            (Fixture.config(remove: ["ipam"]), 7),
            (Fixture.config(extra: ["datastore_type": .string("etcdv3")]), 2),
        ]
        for (stdin, code) in cases {
            let o = try XCTUnwrap(output(Fixture.env("ADD"), stdin))
            XCTAssertEqual(json(o.stdout)["code"], .int(Int64(code)))
            XCTAssertEqual(o.exitCode, 1)
        }
        // An unsupported version is not echoed back; the error speaks the newest version.
        let o = try XCTUnwrap(output(Fixture.env("ADD"), Fixture.config(version: "2.0.0")))
        XCTAssertEqual(json(o.stdout)["cniVersion"], .string("1.1.0"))
    }

    func testCheckNeedsVersionAndPrevResult() throws {
        let prev: JSONValue = json(#"{"ips":[{"version":"4","address":"10.0.0.5/32"}]}"#)
        let old = try XCTUnwrap(output(Fixture.env("CHECK"), Fixture.config(version: "0.3.1", extra: ["prevResult": prev])))
        XCTAssertEqual(json(old.stdout)["code"], .int(1))
        XCTAssertTrue(json(old.stdout)["msg"]?.stringValue?.contains("CHECK") ?? false)
        let missing = try XCTUnwrap(output(Fixture.env("CHECK"), Fixture.config(version: "0.4.0")))
        XCTAssertEqual(json(missing.stdout)["code"], .int(7))
        XCTAssertTrue(json(missing.stdout)["msg"]?.stringValue?.contains("prevResult") ?? false)
        guard case .check(let r) = try XCTUnwrap(request(Fixture.env("CHECK"), Fixture.config(version: "0.4.0", extra: ["prevResult": prev])))
        else { return XCTFail("not CHECK") }
        XCTAssertEqual(r.config.prevResult?.ips.first?.address.description, "10.0.0.5/32")
    }

    func testStatusAndGCNeed110() throws {
        for command in ["STATUS", "GC"] {
            let o = try XCTUnwrap(output(Fixture.env(command), Fixture.config(version: "1.0.0")))
            XCTAssertEqual(json(o.stdout)["code"], .int(1), command)
        }
        guard case .status = try XCTUnwrap(request(["CNI_COMMAND": "STATUS"], Fixture.config(version: "1.1.0"))) else {
            return XCTFail("not STATUS")
        }
        let attachments: JSONValue = json(#"[{"containerID":"c1","ifname":"eth0"},{"containerID":"c2","ifname":"net1"}]"#)
        let gcConfig = Fixture.config(version: "1.1.0", extra: ["cni.dev/valid-attachments": attachments])
        guard case .gc(let g) = try XCTUnwrap(request(["CNI_COMMAND": "GC", "CNI_PATH": "/opt/cni/bin"], gcConfig)) else {
            return XCTFail("not GC")
        }
        XCTAssertEqual(g.validAttachments, [Attachment(containerID: "c1", ifName: "eth0"), Attachment(containerID: "c2", ifName: "net1")])
        let legacy = Fixture.config(version: "1.1.0", extra: ["cni.dev/attachments": attachments])
        guard case .gc(let l) = try XCTUnwrap(request(["CNI_COMMAND": "GC", "CNI_PATH": "/opt/cni/bin"], legacy)) else {
            return XCTFail("not GC")
        }
        XCTAssertEqual(l.validAttachments.count, 2)
        let bad = Fixture.config(version: "1.1.0", extra: ["cni.dev/valid-attachments": json(#"[{"ifname":"eth0"}]"#)])
        let o = try XCTUnwrap(output(["CNI_COMMAND": "GC", "CNI_PATH": "/opt/cni/bin"], bad))
        XCTAssertEqual(json(o.stdout)["code"], .int(6))
    }

    func testCompleteEncodesAddResultInConfigVersion() throws {
        let r = try XCTUnwrap(request(Fixture.env("ADD"), Fixture.config(version: "0.3.0")))
        let out = CNIDispatcher.complete(r, with: .success(ResultTests.sample))
        XCTAssertEqual(out.exitCode, 0)
        XCTAssertEqual(json(out.stdout), json(ResultTests.expected("0.3.0")))
        let del = try XCTUnwrap(request(Fixture.env("DEL"), Fixture.config(version: "0.3.0")))
        XCTAssertEqual(CNIDispatcher.complete(del, with: .success(nil)), .success)
        let failed = CNIDispatcher.complete(del, with: .failure(CNIError(.ioFailure, "disk")))
        XCTAssertEqual(json(failed.stdout), json(#"{"cniVersion":"0.3.0","code":5,"msg":"disk"}"#))
    }

    func testRunnerUsesTheInjectedEdge() async throws {
        final class Sink: @unchecked Sendable { var data = Data() }
        let sink = Sink()
        func io(_ env: [String: String]) -> PluginIO {
            PluginIO(environment: { env }, readStdin: { Fixture.config(version: "1.1.0") }, writeStdout: { sink.data.append($0) })
        }
        let code = await CNIPluginRunner.run(io: io(Fixture.env("ADD"))) { request in
            guard case .add(let r) = request else { throw CNIError(.internalFailure, "wrong request") }
            return CNIResult(ips: [.init(address: .host(CNIIPAddress("10.0.0.9")!))], dns: .init(domain: r.podNamespace))
        }
        XCTAssertEqual(code, 0)
        XCTAssertEqual(json(sink.data), json(#"{"cniVersion":"1.1.0","ips":[{"address":"10.0.0.9/32"}],"dns":{"domain":"default"}}"#))

        struct Boom: Error {}
        sink.data = Data()
        let failed = await CNIPluginRunner.run(io: io(Fixture.env("DEL"))) { _ in throw Boom() }
        XCTAssertEqual(failed, 1)
        XCTAssertEqual(json(sink.data)["code"], .int(100))

        sink.data = Data()
        let typed = await CNIPluginRunner.run(io: io(Fixture.env("DEL"))) { _ in throw CNIError(.tryAgainLater, "busy") }
        XCTAssertEqual(typed, 1)
        XCTAssertEqual(json(sink.data)["code"], .int(11))
    }
}
