/// A change to a reflector's cache, in the order it happened.
public enum ReflectorEvent<T: KubeResource>: Sendable {
    case added(T)
    case updated(old: T, new: T)
    case deleted(T)
    /// The first complete list has been applied; the cache now mirrors the server.
    case synced
}

/// What a reflector watches and how it recovers.
public struct ReflectorOptions: Sendable {
    public var namespace: String?
    public var labelSelector: String?
    public var fieldSelector: String?
    /// Items per list page.
    public var pageSize: Int
    /// Asked of the server per watch; the reflector reconnects when the server ends the watch.
    public var watchTimeoutSeconds: Int
    public var backoff: Backoff

    public init(namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil,
                pageSize: Int = 500, watchTimeoutSeconds: Int = 300, backoff: Backoff = Backoff()) {
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.pageSize = pageSize
        self.watchTimeoutSeconds = watchTimeoutSeconds
        self.backoff = backoff
    }

    func listOptions() -> ListOptions {
        ListOptions(namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector, limit: pageSize)
    }

    func watchOptions(from resourceVersion: String) -> ListOptions {
        ListOptions(namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector,
                    resourceVersion: resourceVersion, allowWatchBookmarks: true, timeoutSeconds: watchTimeoutSeconds)
    }
}

/// Capped exponential backoff with jitter: the n-th consecutive failure waits a random time in
/// [½, 1] × min(cap, base × 2ⁿ), so that many clients failing together do not retry in step.
public struct Backoff: Sendable, Hashable {
    public var base: Double
    public var cap: Double

    public init(base: Double = 0.1, cap: Double = 30) {
        self.base = max(0, base)
        self.cap = max(self.base, cap)
    }

    /// The ceiling for the given number of consecutive failures (0 for the first retry).
    public func ceiling(attempt: Int) -> Double {
        let exponent = Double(min(max(attempt, 0), 62))
        return min(cap, base * pow2(exponent))
    }

    /// The delay, in seconds, before retry number `attempt`.
    public func delay<R: RandomNumberGenerator>(attempt: Int, using rng: inout R) -> Double {
        let c = ceiling(attempt: attempt)
        return c / 2 + Double.random(in: 0...1, using: &rng) * c / 2
    }

    public func delay(attempt: Int) -> Double {
        var rng = SystemRandomNumberGenerator()
        return delay(attempt: attempt, using: &rng)
    }

    private func pow2(_ e: Double) -> Double {
        var r = 1.0
        for _ in 0..<Int(e) { r *= 2 }
        return r
    }
}
