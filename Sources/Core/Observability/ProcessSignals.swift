import Dispatch
import Foundation

/// SIGTERM and SIGINT as a cancellation: the kubelet stops a container with SIGTERM, and a role
/// must get the chance to shut down cleanly (BGP sends a Cease; felix leaves the dataplane as is).
public enum ProcessSignals {
    /// Runs `body` and cancels it on the first SIGTERM or SIGINT; returns (or throws) when it does.
    public static func runUntilTerminated<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await body() }
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { task.cancel() }
            source.resume()
            sources.append(source)
        }
        defer { for s in sources { s.cancel() } }
        return try await task.value
    }
}
