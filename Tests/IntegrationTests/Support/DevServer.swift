import Foundation
import XCTest

/// A `calico-devcluster apiserver` child process for integration tests.
///
/// The binary is looked up next to the test bundle (`.build/debug/calico-devcluster`; build it
/// first with `swift build --product calico-devcluster`), or at `$CALICO_DEVCLUSTER_BIN`.
/// The server is started with `--port 0` unless a port is given, and the port it reports in its
/// "listening on https://127.0.0.1:P" line is used, so parallel tests never race for a port.
final class DevServer: @unchecked Sendable {
    private(set) var port: Int
    let dataDir: String
    private var process: Process?
    private let lock = NSLock()

    var url: String { "https://127.0.0.1:\(port)" }
    /// Kubeconfig authenticating with the admin bearer token.
    var tokenKubeconfig: String { dataDir + "/admin.kubeconfig" }
    /// Kubeconfig authenticating with a client certificate signed by the cluster CA.
    var certKubeconfig: String { dataDir + "/admin-certauth.kubeconfig" }
    var caPath: String { dataDir + "/ca.crt" }
    /// The server's stderr (its log) goes here.
    var logPath: String { dataDir + "/devcluster.log" }

    private init(dataDir: String, port: Int) {
        self.dataDir = dataDir
        self.port = port
    }

    deinit { stop() }

    static func start(dataDir: String? = nil, port: Int? = nil) throws -> DevServer {
        let dir = dataDir ?? (NSTemporaryDirectory() + "devcluster-test-" + UUID().uuidString)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let server = DevServer(dataDir: dir, port: port ?? 0)
        try server.launch()
        return server
    }

    /// The path of the `calico-devcluster` binary.
    static func binaryPath() throws -> String {
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["CALICO_DEVCLUSTER_BIN"] { candidates.append(env) }
        // The xctest bundle (or executable on Linux) lives in .build/debug next to the products.
        for anchor in [Bundle(for: DevServer.self).bundlePath, Bundle.main.bundlePath, CommandLine.arguments.first ?? ""] {
            var dir = URL(fileURLWithPath: anchor).deletingLastPathComponent()
            for _ in 0..<4 {
                candidates.append(dir.appendingPathComponent("calico-devcluster").path)
                dir = dir.deletingLastPathComponent()
            }
        }
        // Fall back to the package's own .build directory, found from this source file.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/calico-devcluster").path)
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        throw DevServerError("calico-devcluster binary not found (tried \(candidates)); run `swift build --product calico-devcluster`")
    }

    private func launch() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try Self.binaryPath())
        p.arguments = ["apiserver", "--port", String(port), "--data-dir", dataDir]
        let out = Pipe()
        p.standardOutput = out
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        p.standardError = log
        try p.run()
        lock.withLock { process = p }

        // Read stdout lines until "listening on https://HOST:PORT"; keep draining afterwards.
        let ready = DispatchSemaphore(value: 0)
        let found = LockedBox<Int?>(nil)
        let handle = out.fileHandleForReading
        Thread.detachNewThread {
            var buffer = ""
            var signalled = false
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                if signalled { continue }
                buffer += String(decoding: chunk, as: UTF8.self)
                if let range = buffer.range(of: "listening on https://") {
                    let rest = buffer[range.upperBound...]
                    guard let nl = rest.firstIndex(of: "\n") else { continue }
                    let hostPort = rest[..<nl]
                    if let colon = hostPort.lastIndex(of: ":"), let p = Int(hostPort[hostPort.index(after: colon)...]) {
                        found.value = p
                    }
                    signalled = true
                    ready.signal()
                }
            }
            if !signalled { ready.signal() }
        }
        if ready.wait(timeout: .now() + 30) == .timedOut || found.value == nil {
            stop()
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw DevServerError("calico-devcluster did not report listening within 30s; log:\n\(log.suffix(2000))")
        }
        port = found.value!
    }

    /// Terminates the server (SIGTERM, then SIGKILL after 5s) and waits for it to exit.
    func stop() {
        let p: Process? = lock.withLock { let p = process; process = nil; return p }
        guard let p, p.isRunning else { return }
        p.terminate()
        let deadline = Date().addingTimeInterval(5)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
    }

    /// Stops and starts the server again on the same port and data directory.
    func restart() throws {
        stop()
        try launch()
    }

    // MARK: Fault injection (authenticated POSTs to /devcluster/faults/...)

    /// Closes every open watch stream abruptly.
    func dropWatches() throws { try postFault("drop-watches") }
    /// The next `n` API requests fail with `code` and a Status body.
    func failNext(_ n: Int, code: Int = 500) throws { try postFault("fail-next?count=\(n)&code=\(code)") }
    /// Drops the retained watch history, so any older resourceVersion gets 410 Gone.
    func compact() throws { try postFault("compact") }

    /// The admin bearer token, read from the token kubeconfig.
    func token() throws -> String {
        let text = try String(contentsOfFile: tokenKubeconfig, encoding: .utf8)
        for line in text.split(separator: "\n") {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("token:") {
                return t.dropFirst("token:".count).trimmingCharacters(in: .whitespaces)
                    .trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
            }
        }
        throw DevServerError("no token in \(tokenKubeconfig)")
    }

    /// Runs curl against the server with the CA and the admin token; returns (HTTP code, body).
    func curl(_ path: String, method: String = "GET", body: String? = nil, contentType: String = "application/json") throws -> (code: Int, body: String) {
        var args = ["-sS", "--cacert", caPath, "-H", "Authorization: Bearer \(try token())", "-X", method,
                    "-w", "\n%{http_code}", url + path]
        if let body { args += ["-H", "Content-Type: \(contentType)", "--data-binary", body] }
        let r = try Self.run("/usr/bin/curl", args)
        guard r.status == 0 else { throw DevServerError("curl \(method) \(path) failed: \(r.err)") }
        let lines = r.out.split(separator: "\n", omittingEmptySubsequences: false)
        let code = Int(lines.last ?? "") ?? 0
        return (code, lines.dropLast().joined(separator: "\n"))
    }

    private func postFault(_ what: String) throws {
        let r = try curl("/devcluster/faults/" + what, method: "POST")
        guard (200..<300).contains(r.code) else { throw DevServerError("fault \(what): HTTP \(r.code) \(r.body)") }
    }

    // MARK: kubectl

    /// Runs the real kubectl with the token kubeconfig (unless args name another `--kubeconfig`).
    func kubectl(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        try Self.run("/usr/bin/kubectl", kubectlArgs(args), environment: kubectlEnvironment())
    }

    /// Starts kubectl in the background (for `--watch`); read its output with `output()`.
    func kubectlBackground(_ args: [String]) throws -> BackgroundProcess {
        try BackgroundProcess(executable: "/usr/bin/kubectl", arguments: kubectlArgs(args), environment: kubectlEnvironment())
    }

    private func kubectlArgs(_ args: [String]) -> [String] {
        args.contains(where: { $0.hasPrefix("--kubeconfig") }) ? args : ["--kubeconfig", tokenKubeconfig] + args
    }

    private func kubectlEnvironment() -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["HOME"] = dataDir  // keeps kubectl's discovery cache per server
        env.removeValue(forKey: "KUBECONFIG")
        return env
    }

    /// Runs a program to completion, collecting stdout and stderr.
    static func run(_ executable: String, _ args: [String], environment: [String: String]? = nil, stdin: String? = nil) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        if let environment { p.environment = environment }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let input = Pipe()
        p.standardInput = input
        try p.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        let errData = LockedBox(Data())
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData.value = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData.value, as: UTF8.self))
    }
}

/// A child process whose stdout is collected as it arrives.
final class BackgroundProcess: @unchecked Sendable {
    private let process = Process()
    private let collected = LockedBox(Data())

    init(executable: String, arguments: [String], environment: [String: String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let handle = out.fileHandleForReading
        let collected = self.collected
        Thread.detachNewThread {
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                collected.withLock { $0.append(chunk) }
            }
        }
    }

    /// Everything printed so far (stdout and stderr).
    func output() -> String { String(decoding: collected.value, as: UTF8.self) }

    /// Polls the output until `predicate` holds or `timeout` passes; returns whether it held.
    func waitForOutput(timeout: TimeInterval = 10, _ predicate: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if predicate(output()) { return true }
            usleep(50_000)
        }
        return predicate(output())
    }

    var isRunning: Bool { process.isRunning }
    var pid: Int32 { process.processIdentifier }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// A value guarded by a lock, for handing results between threads.
final class LockedBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    var value: T {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
    func withLock<R>(_ body: (inout T) -> R) -> R { lock.withLock { body(&stored) } }
}

struct DevServerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
