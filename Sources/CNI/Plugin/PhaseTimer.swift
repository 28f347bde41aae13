#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// With CALICO_CNI_TIMING=1 in the environment, each phase of an invocation prints its
/// duration to stderr (`calico cni ADD: ipam 9.8 ms`), which the kubelet logs with the
/// plugin's other output; otherwise nothing is measured.
struct PhaseTimer: Sendable {
    let command: String
    let enabled: Bool
    private let start: UInt64

    init(_ command: String, environment: [String: String]) {
        self.command = command
        enabled = environment["CALICO_CNI_TIMING"] == "1"
        start = Self.now()
    }

    private static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Runs `body`, reporting its duration as `phase`.
    func measure<T, E: Error>(_ phase: String, _ body: () throws(E) -> T) throws(E) -> T {
        guard enabled else { return try body() }
        let t = Self.now()
        defer { report(phase, since: t) }
        return try body()
    }

    func measure<T, E: Error>(_ phase: String, _ body: () async throws(E) -> T) async throws(E) -> T {
        guard enabled else { return try await body() }
        let t = Self.now()
        defer { report(phase, since: t) }
        return try await body()
    }

    /// Reports the time since this timer was made.
    func total() {
        guard enabled else { return }
        report("total in plugin", since: start)
    }

    /// A line of context (which way the API was reached), printed when timing.
    func note(_ text: String?) {
        guard enabled, let text else { return }
        FileHandle.standardError.write(Data("calico cni \(command): \(text)\n".utf8))
    }

    private func report(_ phase: String, since t: UInt64) {
        let ms = Double(Self.now() - t) / 1_000_000
        FileHandle.standardError.write(Data("calico cni \(command): \(phase) \(String(format: "%.2f", ms)) ms\n".utf8))
    }
}
