import Foundation
import Routing
import XCTest

/// The lab for the BGP interoperability tests: two fresh network namespaces joined by a veth,
/// `ours` (10.99.N.1, fd99:N::1) and `theirs` (10.99.N.2, fd99:N::2). Our speaker runs in
/// this test process and creates its sockets inside `ours` (SocketFactory joins the namespace
/// with setns(2) on a helper thread for each socket); the peer daemon runs as a child process
/// under `ip netns exec theirs`. Everything is removed by `tearDown`, failure or not.
final class BGPLab: @unchecked Sendable {
    let ours: String
    let theirs: String
    let subnet: Int
    let dir: String
    private var daemons: [Process] = []

    var ourV4: String { "10.99.\(subnet).1" }
    var theirV4: String { "10.99.\(subnet).2" }
    var ourV6: String { "fd99:\(subnet)::1" }
    var theirV6: String { "fd99:\(subnet)::2" }
    var namespacePath: String { "/run/netns/\(ours)" }

    private static let counter = LockedBox(0)

    init() throws {
        let n = Self.counter.withLock { (v: inout Int) -> Int in v += 1; return v }
        let tag = "\(getpid() % 10000)x\(n)"
        ours = "bgpo\(tag)"
        theirs = "bgpt\(tag)"
        subnet = Int(getpid() % 200) + n + 20
        dir = NSTemporaryDirectory() + "bgplab-\(tag)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        do {
            try sh("/usr/sbin/ip", "netns", "add", ours)
            try sh("/usr/sbin/ip", "netns", "add", theirs)
            try sh("/usr/sbin/ip", "link", "add", "vo\(tag)", "netns", ours, "type", "veth", "peer", "name", "vt\(tag)", "netns", theirs)
            for (ns, link, v4, v6) in [(ours, "vo\(tag)", ourV4, ourV6), (theirs, "vt\(tag)", theirV4, theirV6)] {
                try sh("/usr/sbin/ip", "-n", ns, "link", "set", "lo", "up")
                try sh("/usr/sbin/ip", "-n", ns, "addr", "add", "\(v4)/24", "dev", link)
                try sh("/usr/sbin/ip", "-n", ns, "addr", "add", "\(v6)/64", "dev", link, "nodad")
                try sh("/usr/sbin/ip", "-n", ns, "link", "set", link, "up")
            }
        } catch {
            tearDown()
            throw error
        }
    }

    /// Starts a daemon inside `theirs`; it is killed by `tearDown`.
    func launch(_ executable: String, _ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        p.arguments = ["netns", "exec", theirs, executable] + args
        let log = FileHandle(forWritingAtPath: dir + "/daemon.log") ?? {
            FileManager.default.createFile(atPath: dir + "/daemon.log", contents: nil)
            return FileHandle(forWritingAtPath: dir + "/daemon.log")!
        }()
        p.standardOutput = log
        p.standardError = log
        try p.run()
        daemons.append(p)
        return p
    }

    func tearDown() {
        for p in daemons where p.isRunning {
            // SIGKILL: children of the test runner inherit a mask that blocks SIGTERM.
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        daemons = []
        try? sh("/usr/sbin/ip", "netns", "del", ours)
        try? sh("/usr/sbin/ip", "netns", "del", theirs)
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Runs a command inside `theirs` and returns its standard output.
    @discardableResult
    func inTheirs(_ args: String...) throws -> String {
        try sh(["/usr/sbin/ip", "netns", "exec", theirs] + args)
    }

    func speakerConfig(asn: UInt32 = 64512, gracefulRestart: UInt16 = 120) -> BGPSpeakerConfig {
        BGPSpeakerConfig(localAS: asn, routerID: 0x0A63_0001 + UInt32(subnet) << 8, listenAddress: IPAddress("::"),
                         listenPort: 179, gracefulRestartSeconds: gracefulRestart,
                         localAddresses: [IPAddress(ourV6)!], networkNamespacePath: namespacePath)
    }
}

struct CommandError: Error, CustomStringConvertible {
    var command: String
    var output: String
    var description: String { "\(command): \(output)" }
}

@discardableResult
func sh(_ args: String...) throws -> String { try sh(args) }

@discardableResult
func sh(_ args: [String]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: args[0])
    p.arguments = Array(args.dropFirst())
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard p.terminationStatus == 0 else { throw CommandError(command: args.joined(separator: " "), output: text) }
    return text
}

/// Polls `condition` every 200 ms until it holds or `seconds` pass.
func eventually(_ seconds: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line,
                _ condition: () async throws -> Bool) async rethrows {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return }
        try? await Task.sleep(nanoseconds: 200_000_000)
    }
    XCTFail("timed out after \(seconds)s waiting for: \(what)", file: file, line: line)
}

extension BGPSpeaker {
    func state(_ peer: String) async -> SessionState? {
        await status().first { $0.address == IPAddress(peer) }?.state
    }

    func has(_ prefix: String, via hop: String? = nil) async -> Bool {
        guard let sel = await locRIB()[IPPrefix(prefix)!] else { return false }
        return hop.map { sel.best.nextHop == IPAddress($0) } ?? true
    }
}
