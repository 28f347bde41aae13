import Core
import Foundation
import XCTest

/// Reflector throughput against `calico-devcluster apiserver`, with kubectl as the reference.
/// Without BENCH it runs at a small scale (300 pods) as an ordinary test; `BENCH=1` runs the
/// full 10,000 pods (bench/reflector.sh), `BENCH_PODS=N` any other size. Results are printed as
/// `BENCH key=value` lines; every phase also asserts that nothing was lost.
final class ReflectorBenchmark: XCTestCase {
    private static let ns = "bench"
    private var ns: String { Self.ns }
    private let width = 64

    private func podCount() throws -> Int {
        let env = ProcessInfo.processInfo.environment
        if let n = env["BENCH_PODS"] {
            guard let v = Int(n), v > 0 else { throw DevServerError("BENCH_PODS=\(n) is not a positive number") }
            return v
        }
        switch env["BENCH"] {
        case nil, "0"?: return 300
        case "1"?: return 10_000
        case let other?: throw DevServerError("BENCH=\(other): use BENCH=1 (10,000 pods) or BENCH_PODS=N")
        }
    }

    private static func pod(_ i: Int) -> Pod {
        Pod(metadata: ObjectMeta(name: "pod-\(i)", namespace: ns, labels: ["app": "bench", "shard": String(i % 16)]),
            spec: PodSpec(nodeName: "node-\(i % 50)", containers: [Container(name: "c", image: "busybox",
                                                                            ports: [ContainerPort(name: "http", containerPort: 80)])]),
            status: PodStatus(phase: "Running", podIP: "10.\(i / 65536 % 256).\(i / 256 % 256).\(i % 256)"))
    }

    /// Runs `body(i)` for i in 0..<n on `width` concurrent workers.
    private func parallel(_ n: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let width = self.width
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<min(width, n) {
                group.addTask { for i in stride(from: w, to: n, by: width) { try await body(i) } }
            }
            try await group.waitForAll()
        }
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    private static func peakRSSKiB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }
        return 0
    }

    private func report(_ key: String, _ value: Double) {
        print("BENCH \(key)=\(String(format: "%.3f", value))")
    }

    func testListAndWatchThroughputAgainstKubectl() async throws {
        let n = try podCount()
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: "/usr/bin/kubectl"), "kubectl is the reference; install it")
        let server = try DevServer.start()
        defer {
            server.stop()
            try? FileManager.default.removeItem(atPath: server.dataDir)
        }
        let connection = try DatastoreConfig.load(environment: ["KUBECONFIG": server.tokenKubeconfig])
        let writer = try KubeClient(connection: connection)
        let reader = try KubeClient(connection: connection)
        _ = try await writer.create(Namespace(metadata: ObjectMeta(name: ns)))
        print("BENCH pods=\(n)")

        // Seed.
        var t = ContinuousClock.now
        try await parallel(n) { i in _ = try await writer.create(Self.pod(i)) }
        report("create_per_s", Double(n) / Self.seconds(since: t))

        // Reflector list.
        let reflector = Reflector<Pod>(api: reader, options: ReflectorOptions(pageSize: 500))
        let updates = EventCounter(target: n)
        let stream = await reflector.events()
        let follower = Task { for await e in stream { if case .updated = e { await updates.count() } } }
        t = ContinuousClock.now
        await reflector.start()
        await reflector.waitForSync()
        let reflectorList = Self.seconds(since: t)
        let cached = await reflector.count
        XCTAssertEqual(cached, n)
        report("reflector_list_s", reflectorList)
        report("reflector_list_items_per_s", Double(n) / reflectorList)

        // kubectl list.
        t = ContinuousClock.now
        let listed = try server.kubectl(["get", "pods", "-A", "-o", "json"])
        let kubectlList = Self.seconds(since: t)
        XCTAssertEqual(listed.status, 0, listed.err)
        let items = try JSONSerialization.jsonObject(with: Data(listed.out.utf8)) as? [String: Any]
        XCTAssertEqual((items?["items"] as? [Any])?.count, n)
        report("kubectl_list_s", kubectlList)
        report("kubectl_list_items_per_s", Double(n) / kubectlList)
        report("list_speedup_vs_kubectl", kubectlList / reflectorList)

        // kubectl watch: prints the n listed pods, then one line per event.
        t = ContinuousClock.now
        let watcher = try LineCountingProcess(server: server, args: ["get", "pods", "-A", "--watch", "-o", "name"])
        defer { watcher.stop() }
        let listedByWatch = await watcher.wait(forLines: n, timeout: 300)
        XCTAssertTrue(listedByWatch, "kubectl --watch listed \(watcher.lines) of \(n)")
        report("kubectl_watch_initial_list_s", Self.seconds(since: t))

        // n changes, followed live by both.
        let currentVersion = await reflector.resourceVersion
        let versionBeforeWrites = try XCTUnwrap(currentVersion)
        let start = ContinuousClock.now
        await updates.reset(start: start)
        watcher.reset(start: start)
        try await parallel(n) { i in
            _ = try await writer.patch(Pod.self, name: "pod-\(i)", namespace: Self.ns,
                                       mergePatch: .object(["metadata": .object(["labels": .object(["gen": .string("1")])])]))
        }
        let writes = Self.seconds(since: start)
        report("patch_per_s", Double(n) / writes)
        let reflectorDone = await updates.wait(timeout: 300)
        let seen = await updates.seen
        XCTAssertNotNil(reflectorDone, "reflector saw \(seen) of \(n) updates")
        let watched = await watcher.wait(forLines: 2 * n, timeout: 300)
        XCTAssertTrue(watched, "kubectl --watch printed \(watcher.lines) of \(2 * n) lines")
        let kubectlDone = watcher.secondsToReach(2 * n)
        if let reflectorDone, let kubectlDone {
            report("reflector_watch_s", reflectorDone)
            report("reflector_watch_events_per_s", Double(n) / reflectorDone)
            report("reflector_watch_lag_after_last_write_s", max(0, reflectorDone - writes))
            report("kubectl_watch_s", kubectlDone)
            report("kubectl_watch_events_per_s", Double(n) / kubectlDone)
            report("kubectl_watch_lag_after_last_write_s", max(0, kubectlDone - writes))
            report("watch_speedup_vs_kubectl", kubectlDone / reflectorDone)
        }
        let snapshot = await reflector.snapshot()
        XCTAssertEqual(snapshot.values.filter { $0.metadata.labels?["gen"] == "1" }.count, n)
        await reflector.stop()
        follower.cancel()

        try await replay(n, from: versionBeforeWrites, server: server, client: reader)
        print("BENCH peak_rss_kib=\(Self.peakRSSKiB())")
    }

    /// The same n events read back from the server's watch history as fast as each consumer
    /// can take them: a reflector whose list is pinned (empty, at the version before the
    /// writes) against `kubectl get --raw` of the same watch.
    private func replay(_ n: Int, from version: String, server: DevServer, client: KubeClient) async throws {
        let reflector = Reflector<Pod>(api: PinnedListAPI(base: client, resourceVersion: version))
        let added = EventCounter(target: n)
        let stream = await reflector.events()
        let follower = Task { for await e in stream { if case .added = e { await added.count() } } }
        let t = ContinuousClock.now
        await added.reset(start: t)
        await reflector.start()
        let reflectorDone = await added.wait(timeout: 300)
        await reflector.stop()
        follower.cancel()

        let start = ContinuousClock.now
        let raw = try LineCountingProcess(server: server, args: ["get", "--raw", "/api/v1/pods?watch=true&resourceVersion=\(version)"])
        defer { raw.stop() }
        raw.reset(start: start)
        let rawDone = await raw.wait(forLines: n, timeout: 300)
        XCTAssertTrue(rawDone, "kubectl --raw watch printed \(raw.lines) of \(n) lines")
        let seen = await added.seen
        XCTAssertNotNil(reflectorDone, "replay: reflector saw \(seen) of \(n) events")
        if let reflectorDone, let kubectlDone = raw.secondsToReach(n) {
            report("reflector_replay_s", reflectorDone)
            report("reflector_replay_events_per_s", Double(n) / reflectorDone)
            report("kubectl_raw_replay_s", kubectlDone)
            report("kubectl_raw_replay_events_per_s", Double(n) / kubectlDone)
            report("replay_speedup_vs_kubectl", kubectlDone / reflectorDone)
        }
    }
}

/// Delegates to a real client, except that a list is empty and claims `resourceVersion`, so
/// that the reflector's watch replays history from there.
private struct PinnedListAPI: KubeAPI {
    let base: KubeClient
    let resourceVersion: String

    func listPage<T: KubeResource>(_ type: T.Type, options: ListOptions) async throws -> ResourceList<T> {
        ResourceList(items: [], resourceVersion: resourceVersion, continueToken: nil)
    }
    func watch<T: KubeResource>(_ type: T.Type, options: ListOptions) -> AsyncThrowingStream<WatchEvent<T>, Error> {
        base.watch(type, options: options)
    }
    func get<T: KubeResource>(_ type: T.Type, name: String, namespace: String?) async throws -> T {
        try await base.get(type, name: name, namespace: namespace)
    }
    func create<T: KubeResource>(_ object: T) async throws -> T { try await base.create(object) }
    func update<T: KubeResource>(_ object: T) async throws -> T { try await base.update(object) }
    func patch<T: KubeResource>(_ type: T.Type, name: String, namespace: String?, mergePatch: JSONValue) async throws -> T {
        try await base.patch(type, name: name, namespace: namespace, mergePatch: mergePatch)
    }
    func delete<T: KubeResource>(_ type: T.Type, name: String, namespace: String?) async throws {
        try await base.delete(type, name: name, namespace: namespace)
    }
}

/// Counts events and notes when the target is reached.
private actor EventCounter {
    let target: Int
    private(set) var seen = 0
    private var start = ContinuousClock.now
    private var doneAfter: Double?

    init(target: Int) { self.target = target }

    func reset(start: ContinuousClock.Instant) {
        self.start = start
        seen = 0
        doneAfter = nil
    }

    func count() {
        seen += 1
        if seen == target {
            let d = ContinuousClock.now - start
            doneAfter = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }
    }

    /// Seconds from `start` to the target, or nil after `timeout` seconds of waiting.
    func wait(timeout: Double) async -> Double? {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        while doneAfter == nil, ContinuousClock.now < deadline { try? await Task.sleep(nanoseconds: 5_000_000) }
        return doneAfter
    }
}

/// kubectl in the background, counting output lines and when each milestone was reached.
private final class LineCountingProcess: @unchecked Sendable {
    private let process = Process()
    private let state = LockedBox<(lines: Int, start: Date, reached: [Int: Date])>((0, Date(), [:]))

    init(server: DevServer, args: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/kubectl")
        process.arguments = ["--kubeconfig", server.tokenKubeconfig] + args
        var env = ProcessInfo.processInfo.environment
        env["HOME"] = server.dataDir
        env.removeValue(forKey: "KUBECONFIG")
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let handle = out.fileHandleForReading
        let state = self.state
        Thread.detachNewThread {
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                let newLines = chunk.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
                let now = Date()
                state.withLock { s in
                    s.lines += newLines
                    s.reached[s.lines] = now
                }
            }
        }
    }

    var lines: Int { state.value.lines }

    /// Future milestones count from `start` (lines already printed stay counted).
    func reset(start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let date = Date().addingTimeInterval(-(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
        state.withLock { $0.start = date }
    }

    func wait(forLines n: Int, timeout: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while lines < n, Date() < deadline { try? await Task.sleep(nanoseconds: 5_000_000) }
        return lines >= n
    }

    /// Seconds from `start` until the output first had at least `n` lines.
    func secondsToReach(_ n: Int) -> Double? {
        state.withLock { s in
            s.reached.filter { $0.key >= n }.min { $0.key < $1.key }.map { $0.value.timeIntervalSince(s.start) }
        }
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}
