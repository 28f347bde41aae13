import Foundation

/// Waits for the Kubernetes API with exponential backoff: retries while the API is unreachable
/// or overloaded, gives up on other errors at once, and says each time what it is waiting for.
public struct APIWait: Sendable {
    /// Total time allowed; nil waits forever (as calico-node in a DaemonSet should).
    public var timeout: Duration?
    public var initialDelay: Duration
    public var maxDelay: Duration

    public init(timeout: Duration? = nil, initialDelay: Duration = .milliseconds(500), maxDelay: Duration = .seconds(10)) {
        self.timeout = timeout
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
    }

    /// True for failures that may heal by waiting: no connection, 5xx, 429.
    public static func isRetryable(_ error: Error) -> Bool {
        if case StartupError.apiUnavailable = error { return true }
        guard let e = error as? KubeError else { return false }
        switch e {
        case .transport: return true
        case .api(let code, _): return code >= 500 || code == 429
        default: return false
        }
    }

    public func run<T: Sendable>(_ what: String, log: @Sendable (String) -> Void,
                                 _ attempt: @Sendable () async throws -> T) async throws -> T {
        let clock = ContinuousClock()
        let start = clock.now
        var delay = initialDelay
        var tries = 0
        while true {
            do {
                let value = try await attempt()
                if tries > 0 { log("the Kubernetes API answers now (\(what))") }
                return value
            } catch where Self.isRetryable(error) {
                tries += 1
                let elapsed = clock.now - start
                if let timeout, elapsed + delay > timeout {
                    throw StartupError.apiUnreachable(seconds: Int(timeout.components.seconds), lastError: "\(error)")
                }
                log("waiting for the Kubernetes API (\(what)): \(error); retrying in \(delay)")
                try await Task.sleep(for: delay)
                delay = min(delay * 2, maxDelay)
            }
        }
    }
}
