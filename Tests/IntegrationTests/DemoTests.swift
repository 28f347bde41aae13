import Foundation
import XCTest

/// Runs the README's first command, `bash scripts/demo.sh` (root), with the binaries of this
/// build, and checks what it claims: both connectivity matrices exactly, the two-minute budget,
/// and that its teardown leaves no network namespace, link, process or work directory behind.
final class DemoTests: XCTestCase {
    private var demo: BackgroundProcess?

    override func tearDown() {
        demo?.stop()  // SIGTERM: the script's trap still tears the cluster down
        demo = nil
    }

    private static let pods = ["shop/frontend", "shop/backend", "shop/db", "other/stranger"]

    /// Written out independently of the script: with no policy every flow is open; with
    /// default-deny in `shop` plus the allow policy, only frontend -> backend enters `shop`,
    /// and `other` (no policy) stays open to everyone.
    private static func expected(after: Bool) -> [String: String] {
        var m: [String: String] = [:]
        for src in pods {
            for dst in pods where dst != src {
                let open = !after || (src == "shop/frontend" && dst == "shop/backend") || dst.hasPrefix("other/")
                m["\(src)->\(dst)"] = open ? "ok" : "blocked"
            }
        }
        return m
    }

    /// The `MATRIX <phase> <flow> <verdict>` lines of one phase.
    private static func matrix(_ output: String, phase: String) -> [String: String] {
        var m: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count == 4, f[0] == "MATRIX", f[1] == phase else { continue }
            XCTAssertNil(m[String(f[2])], "flow \(f[2]) printed twice in phase \(phase)")
            m[String(f[2])] = String(f[3])
        }
        return m
    }

    private static func firstMatch(_ pattern: String, in text: String) -> String? {
        guard let re = try? NSRegularExpression(pattern: pattern),
              let m = re.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)), m.numberOfRanges > 1,
              let r = Range(m.range(at: 1), in: text) else { return nil }
        return String(text[r])
    }

    func testDemoShowsBothMatricesAndLeavesNothingBehind() throws {
        let binDir = URL(fileURLWithPath: try DevServer.binaryPath()).deletingLastPathComponent().path
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        var env = ProcessInfo.processInfo.environment
        env["DEMO_BIN"] = binDir
        env.removeValue(forKey: "DEMO_KEEP")
        let started = Date()
        let p = try BackgroundProcess(executable: "/bin/bash", arguments: [root + "/scripts/demo.sh"], environment: env)
        demo = p
        let deadline = Date().addingTimeInterval(240)
        while p.isRunning && Date() < deadline { usleep(200_000) }
        XCTAssertFalse(p.isRunning, "the demo did not finish within 240 s")
        p.stop()
        let elapsed = Date().timeIntervalSince(started)
        let out = p.output()

        XCTAssertTrue(out.contains("demo finished in"), out)
        XCTAssertLessThan(elapsed, 120, "the demo must finish in under two minutes; it took \(Int(elapsed)) s")
        XCTAssertTrue(out.contains("Established"), "ctl node status shows the mesh: \(out)")
        XCTAssertEqual(Self.matrix(out, phase: "before"), Self.expected(after: false), out)
        XCTAssertEqual(Self.matrix(out, phase: "after"), Self.expected(after: true), out)
        XCTAssertTrue(out.contains("networkpolicy.networking.k8s.io/default-deny created"), out)
        // ctl explain agrees with the measured matrix.
        XCTAssertTrue(out.contains("shop/frontend -> shop/backend TCP/80: ALLOWED"), out)
        XCTAssertTrue(out.contains("shop/db -> shop/backend TCP/80: DENIED"), out)
        // ctl endpoint lists backend's two policies in Calico's order (same order 1000: by name).
        XCTAssertTrue(out.contains("  tier default: shop/knp.default.allow-frontend-to-backend, shop/knp.default.default-deny\n"), out)
        // backend's own chain in node-2's kernel counted the matrix's probes: frontend's allowed
        // (before the policies every probe was), db's and stranger's dropped after them.
        let allowed = try XCTUnwrap(Self.firstMatch(#"meta mark & 0x00010000 == 0x00010000 counter packets ([0-9]+) bytes"#, in: out), out)
        let dropped = try XCTUnwrap(Self.firstMatch(#"\n\s+counter packets ([0-9]+) bytes [0-9]+ drop"#, in: out), out)
        XCTAssertGreaterThan(Int(allowed) ?? 0, 0, out)
        XCTAssertGreaterThan(Int(dropped) ?? 0, 0, out)

        // Teardown: nothing of this cluster is left.
        let name = try XCTUnwrap(Self.firstMatch(#"up: cluster (demo[0-9a-f]+) with"#, in: out), out)
        XCTAssertTrue(out.contains("cluster \(name) removed"), out)
        let netns = try DevServer.run("/usr/sbin/ip", ["netns", "list"]).out
        XCTAssertFalse(netns.contains(name), "network namespaces left: \(netns)")
        let links = try DevServer.run("/usr/sbin/ip", ["-o", "link", "show"]).out
        XCTAssertFalse(links.contains(name), "links left: \(links)")
        // Every process the demo starts inherits CALICO_DEMO_CLUSTER=<name>.
        let marker = "CALICO_DEMO_CLUSTER=\(name)"
        var leftover: [String] = []
        for pid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int32(pid) != nil {
            guard let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
            if environ.split(separator: 0).contains(where: { String(decoding: $0, as: UTF8.self) == marker }) {
                let cmd = (FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data()).map { $0 == 0 ? 32 : $0 }
                leftover.append("\(pid): \(String(decoding: cmd, as: UTF8.self))")
            }
        }
        XCTAssertEqual(leftover, [], "processes left by the demo")
        if let work = Self.firstMatch(#"log (/tmp/calico-demo\.[A-Za-z0-9]+)/node-1\.log"#, in: out) {
            XCTAssertFalse(FileManager.default.fileExists(atPath: work), "work directory \(work) left")
        } else {
            XCTFail("no node log path in the output: \(out)")
        }
    }
}
