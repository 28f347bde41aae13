import Core
import Foundation
import XCTest

/// Throwaway namespaces and the real `ip` command for the kernel integration tests.
enum KernelFixture {
    private static let counter = Counter()

    /// A name no other test (or earlier run) uses: prefix, pid, sequence.
    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)\(getpid() % 100_000)x\(counter.next())"
    }

    /// Runs `body` with fresh namespaces that are deleted afterwards whatever happens.
    static func withNamespaces<T>(_ count: Int, _ body: ([NetNamespace]) throws -> T) throws -> T {
        var made: [String] = []
        defer { for n in made { try? NetNamespace.delete(name: n) } }
        var spaces: [NetNamespace] = []
        for _ in 0..<count {
            let name = uniqueName("kt")
            spaces.append(try NetNamespace.create(name: name))
            made.append(name)
        }
        return try body(spaces)
    }

    /// A veth pair `a` <-> `b`, both up, with `addresses` on `a`; returns `a`'s index.
    static func upPair(_ nl: Netlink, _ a: String, _ b: String, addresses: [String]) throws -> Int32 {
        try nl.createVeth(name: a, peerName: b)
        try nl.setUp(a)
        try nl.setUp(b)
        for text in addresses { try nl.addAddress(InetPrefix(text)!, link: a, noDAD: true) }
        return try nl.linkIndex(a)
    }

    static func name(_ ns: NetNamespace) -> String { String(ns.path.split(separator: "/").last ?? "") }

    /// `ip [-n NS] -j ARGS...` parsed as a JSON array of objects.
    static func ipJSON(_ ns: NetNamespace?, _ args: [String]) throws -> [[String: Any]] {
        let out = try ip(ns, ["-j"] + args)
        if out.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return [] }
        let value = try JSONSerialization.jsonObject(with: Data(out.utf8))
        return value as? [[String: Any]] ?? []
    }

    /// Runs `ip [-n NS] ARGS...`, failing on a non-zero exit.
    @discardableResult
    static func ip(_ ns: NetNamespace?, _ args: [String]) throws -> String {
        try run("/usr/sbin/ip", (ns.map { ["-n", name($0)] } ?? []) + args)
    }

    @discardableResult
    static func run(_ executable: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw CommandFailed(command: ([executable] + args).joined(separator: " "),
                                stderr: String(decoding: errData, as: UTF8.self))
        }
        return String(decoding: data, as: UTF8.self)
    }

    struct CommandFailed: Error, CustomStringConvertible {
        var command: String
        var stderr: String
        var description: String { "\(command) failed: \(stderr)" }
    }

    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int {
            lock.lock()
            defer { lock.unlock() }
            value += 1
            return value
        }
    }
}

extension Dictionary where Key == String, Value == Any {
    func string(_ k: String) -> String? { self[k] as? String }
    func int(_ k: String) -> Int? { self[k] as? Int }
    func strings(_ k: String) -> [String] { self[k] as? [String] ?? [] }
    func objects(_ k: String) -> [[String: Any]] { self[k] as? [[String: Any]] ?? [] }
}
