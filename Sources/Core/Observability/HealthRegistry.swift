import Foundation

/// What one component ("felix", "bgp") last said about itself.
public struct ComponentHealth: Sendable, Equatable, Codable {
    public var ready: Bool
    public var live: Bool
    public var detail: String

    public init(ready: Bool, live: Bool, detail: String) {
        self.ready = ready
        self.live = live
        self.detail = detail
    }
}

/// The process-wide health table that every role reports into and the health server reads.
///
/// A component registers once, then reports ready/live with a detail string. With a liveness
/// timeout, a component that has not reported for that long counts as not live: a wedged loop
/// stops looking alive without having to notice it is wedged (as Calico's health aggregator does).
public final class HealthRegistry: @unchecked Sendable {
    private struct Entry {
        var health: ComponentHealth
        var livenessTimeout: TimeInterval?
        var lastReport: Date
    }

    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    private var endpoints: [String: JSONEndpoint] = [:]
    private let now: @Sendable () -> Date

    public init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    /// Adds a component (not ready, live) so that readiness fails until it reports ready.
    public func register(_ component: String, livenessTimeout: TimeInterval? = nil) {
        lock.withLock {
            if var e = entries[component] {
                e.livenessTimeout = livenessTimeout
                entries[component] = e
            } else {
                entries[component] = Entry(
                    health: ComponentHealth(ready: false, live: true, detail: "starting"),
                    livenessTimeout: livenessTimeout, lastReport: now())
            }
        }
    }

    /// Records a component's state; registers it on first use.
    public func report(_ component: String, ready: Bool, live: Bool, detail: String = "") {
        lock.withLock {
            let timeout = entries[component]?.livenessTimeout
            entries[component] = Entry(
                health: ComponentHealth(ready: ready, live: live, detail: detail),
                livenessTimeout: timeout, lastReport: now())
        }
    }

    /// Removes a component (a role that stopped cleanly no longer counts).
    public func deregister(_ component: String) {
        _ = lock.withLock { entries.removeValue(forKey: component) }
    }

    /// Every component's current state, with stale liveness applied.
    public func snapshot() -> [String: ComponentHealth] {
        let t = now()
        return lock.withLock {
            entries.mapValues { e in
                var h = e.health
                if let timeout = e.livenessTimeout, t.timeIntervalSince(e.lastReport) > timeout {
                    h.live = false
                    h.detail = "no report for \(Int(t.timeIntervalSince(e.lastReport)))s" + (h.detail.isEmpty ? "" : "; last: \(h.detail)")
                }
                return h
            }
        }
    }

    public func health(of component: String) -> ComponentHealth? { snapshot()[component] }

    /// True when there is at least one component and every one is ready.
    public var isReady: Bool {
        let s = snapshot()
        return !s.isEmpty && s.values.allSatisfy(\.ready)
    }

    /// True when every component is live (no component: live, the process itself answers).
    public var isLive: Bool { snapshot().values.allSatisfy(\.live) }

    // MARK: extra read-only JSON endpoints

    /// Serves `path` (e.g. "/bgp/peers") on the health server with whatever `body` returns,
    /// as JSON. A later call for the same path replaces the earlier one.
    public func addJSONEndpoint(_ path: String, body: @escaping @Sendable () async throws -> [UInt8]) {
        lock.withLock { endpoints[path] = JSONEndpoint(body: body) }
    }

    /// The same, encoding an Encodable value with sorted keys.
    public func addJSONEndpoint<T: Encodable & Sendable>(_ path: String, value: @escaping @Sendable () async throws -> T) {
        addJSONEndpoint(path) {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return Array(try encoder.encode(try await value()))
        }
    }

    public func removeJSONEndpoint(_ path: String) {
        _ = lock.withLock { endpoints.removeValue(forKey: path) }
    }

    func endpoint(_ path: String) -> JSONEndpoint? { lock.withLock { endpoints[path] } }
}

struct JSONEndpoint: Sendable {
    var body: @Sendable () async throws -> [UInt8]
}
