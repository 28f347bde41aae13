@testable import Core
import Foundation
import XCTest

/// Against an HTTP/2 server (nghttpd serving fixed list answers) a one-request client lifts its
/// limit once an answer came over HTTP/2: its parallel requests then go out together as streams
/// of the one connection (as libcurl's own queue let them), instead of one after another.
final class KubeClientHTTP2QueueTests: XCTestCase {
    private var certs: ThrowawayHTTPSServer?
    private var nghttpd: Process?
    private var port = 0

    /// Both servers start here, on the main thread: a child started from a test's task would
    /// inherit that thread's blocked signals and never see SIGTERM.
    override func setUpWithError() throws {
        // The throwaway server's certificates (server.crt for IP 127.0.0.1, signed by ca.crt).
        let certs = try ThrowawayHTTPSServer()
        self.certs = certs
        let root = certs.dir + "/h2root"
        let lists = root + "/apis/crd.projectcalico.org/v1"
        try FileManager.default.createDirectory(atPath: lists, withIntermediateDirectories: true)
        for (file, kind) in [("ippools", "IPPoolList"), ("ipamblocks", "IPAMBlockList"), ("ipamhandles", "IPAMHandleList")] {
            try #"{"apiVersion":"crd.projectcalico.org/v1","kind":"\#(kind)","metadata":{"resourceVersion":"7"},"items":[]}"#
                .write(toFile: lists + "/" + file, atomically: true, encoding: .utf8)
        }
        port = try Self.freePort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/sbin/nghttpd")
        server.arguments = ["-a", "127.0.0.1", "-d", root, String(port), certs.dir + "/server.key", certs.dir + "/server.crt"]
        server.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        server.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try server.run()
        nghttpd = server
        try Self.waitForListener(port)
    }

    override func tearDown() {
        // SIGKILL, which no blocked signal mask can hold back.
        if let nghttpd, nghttpd.isRunning {
            kill(nghttpd.processIdentifier, SIGKILL)
            nghttpd.waitUntilExit()
        }
        certs = nil
    }

    func testAnHTTP2AnswerLiftsTheLimitAndTheRequestsShareOneConnection() async throws {
        let certs = try XCTUnwrap(certs)
        let client = try KubeClient(connection: ClusterConnection(server: "https://127.0.0.1:\(port)", caPEM: try certs.pem("ca.crt"), token: "t"),
                                    options: KubeClientOptions(maxConnections: 1))
        let transport = try XCTUnwrap(client.transport as? HTTPTransport)
        XCTAssertFalse(transport.multiplexes)
        let first = try await client.list(IPPool.self)
        XCTAssertEqual(first.resourceVersion, "7")
        XCTAssertTrue(transport.multiplexes, "the first answer came over HTTP/2")
        for _ in 0..<20 {
            async let a = client.list(IPPool.self)
            async let b = client.list(IPAMBlock.self)
            async let c = client.list(IPAMHandle.self)
            async let d = client.list(IPPool.self)
            let (pools, blocks, handles, again) = try await (a, b, c, d)
            XCTAssertEqual([pools.items.count, blocks.items.count, handles.items.count, again.items.count], [0, 0, 0, 0])
        }
        XCTAssertEqual(transport.connectionsOpened, 1, "the parallel requests were streams of one connection")
        XCTAssertEqual(transport.activeTransfers, 0)
    }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DevServerError("socket: errno \(errno)") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else { throw DevServerError("bind 127.0.0.1:0: errno \(errno)") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    private static func waitForListener(_ port: Int) throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let ok = withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            close(fd)
            if ok { return }
            usleep(20_000)
        }
        throw DevServerError("nghttpd did not listen on 127.0.0.1:\(port) within 10 s (is nghttp2-server installed?)")
    }
}
