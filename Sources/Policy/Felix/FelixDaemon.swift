import Core
import Foundation
import Logging

/// The felix loop: datastore updates into the engine, then, after a short debounce that batches
/// bursts, the new ruleset into the dataplane as one atomic batch (only what changed) and the
/// local endpoints' routes and sysctls. Nothing is programmed before every reflector has listed
/// once, so a restart never programs a partial policy set; the first program diffs against what
/// the kernel holds, so a restart does not flush either.
public actor FelixDaemon {
    public static let component = "felix"

    private var engine: FelixEngine
    private var renderer = IncrementalRenderer()
    private let dataplane: any FelixDataplane
    private let endpoints: (any FelixEndpointDataplane)?
    private let health: HealthRegistry
    private let metrics: FelixMetrics
    private let logger: Logger

    private var pendingKinds: Set<String>
    private var flushScheduled = false
    private var dirtySince: ContinuousClock.Instant?
    private var failures = 0
    public private(set) var programCount = 0
    public private(set) var lastError: String?
    private var syncWaiters: [CheckedContinuation<Void, Never>] = []
    private var lastUnresolved: [IPSetID] = []

    /// The kinds whose first list must arrive before anything is programmed.
    public static let watchedKinds = ["pods", "namespaces", "serviceaccounts", "networkpolicies", "calico-networkpolicies",
                                      "globalnetworkpolicies", "networksets", "globalnetworksets", "felixconfigurations"]

    public init(engine: FelixEngine, dataplane: any FelixDataplane, endpoints: (any FelixEndpointDataplane)?,
                health: HealthRegistry, metrics: FelixMetrics, logger: Logger = Logger(label: "calico.felix"),
                waitFor kinds: [String] = FelixDaemon.watchedKinds) {
        self.engine = engine
        self.dataplane = dataplane
        self.endpoints = endpoints
        self.health = health
        self.metrics = metrics
        self.logger = logger
        pendingKinds = Set(kinds)
        health.register(Self.component, livenessTimeout: 60)
    }

    public var config: FelixConfig { engine.config }
    public var state: DataplaneState { engine.state }
    public var policyErrors: [PolicyKey: String] { engine.policyErrors }
    public var isInSync: Bool { pendingKinds.isEmpty }

    // MARK: input

    public func receive(_ update: FelixUpdate) {
        let outcome = engine.apply(update)
        if let (key, reason) = outcome.policyError {
            logger.error("policy \(key) left out: \(reason)")
            metrics.policyErrorsTotal.increment()
            metrics.recordError("policy \(key): \(reason)")
        }
        if outcome.configChanged {
            logger.info("configuration now \(engine.config)")
            for issue in engine.configIssues { logger.warning("\(issue)") }
        }
        metrics.policyErrors.set(to: Double(engine.policyErrors.count))
        markDirty()
    }

    public func synced(_ kind: String) {
        guard pendingKinds.remove(kind) != nil else { return }
        if !pendingKinds.isEmpty {
            health.report(Self.component, ready: false, live: true,
                          detail: "waiting for the first list of \(pendingKinds.sorted().joined(separator: ", "))")
        } else {
            logger.info("every resource listed; programming the dataplane")
            markDirty(immediately: true)
        }
    }

    /// Returns after the first successful programming.
    public func waitUntilProgrammed() async {
        if programCount > 0 { return }
        await withCheckedContinuation { syncWaiters.append($0) }
    }

    /// Re-reads the kernel state and converges again (the periodic refresh).
    public func refresh() {
        guard isInSync else { return }
        renderer = IncrementalRenderer()
        do { try dataplane.forget() } catch { recordFailure("re-read nftables: \(error)") }
        endpoints?.resync()
        markDirty(immediately: true)
    }

    /// An interface felix may care about came or went.
    public func linkChanged(_ name: String) {
        guard isInSync, name.hasPrefix(engine.config.interfacePrefix) else { return }
        let result = endpoints?.resync()
        if let result, !result.errors.isEmpty { metrics.recordError(result.errors.joined(separator: "; ")) }
    }

    /// The loop ended: neither ready nor live any more (the dataplane stays as programmed).
    public func stopped(reason: String) {
        health.report(Self.component, ready: false, live: false, detail: reason)
    }

    /// Live while the loop runs: called by the heartbeat.
    public func heartbeat() {
        let h = health.health(of: Self.component)
        health.report(Self.component, ready: h?.ready ?? false, live: true, detail: h?.detail ?? "")
    }

    // MARK: programming

    private func markDirty(immediately: Bool = false) {
        if dirtySince == nil { dirtySince = ContinuousClock.now }
        guard isInSync, !flushScheduled else { return }
        flushScheduled = true
        let delay = immediately ? 0 : engine.config.debounceInterval
        Task {
            if delay > 0 { try? await Task.sleep(for: .seconds(delay)) }
            await self.flush()
        }
    }

    /// Programs the current desired state now.
    public func flush() {
        flushScheduled = false
        guard isInSync else { return }
        let since = dirtySince
        dirtySince = nil
        let clock = ContinuousClock()
        let started = clock.now
        let (ruleset, changed) = renderer.render(engine.state)
        do {
            let plan = try dataplane.program(ruleset, changed: changed, deltas: renderer.elementDeltas)
            let done = clock.now
            metrics.applyTime.record(done - started)
            if let since { metrics.updateToCommit.record(done - since) }
            metrics.applies.increment()
            if !plan.isEmpty { logger.debug("programmed: \(plan.summary)") }
            failures = 0
            lastError = nil
        } catch {
            // The renderer moved on but the kernel did not: the next pass compares everything.
            renderer = IncrementalRenderer()
            dirtySince = since ?? started
            recordFailure("program nftables: \(error)")
            retryLater()
            return
        }
        let local = engine.state.endpoints.values.map(LocalEndpoint.init)
        if let result = endpoints?.sync(local), !result.errors.isEmpty {
            metrics.recordError(result.errors.joined(separator: "; "))
        }
        programCount += 1
        updateGauges(ruleset)
        health.report(Self.component, ready: true, live: true,
                      detail: "in sync: \(engine.state.endpoints.count) endpoints, \(engine.state.policies.count) policies"
                        + (engine.policyErrors.isEmpty ? "" : ", \(engine.policyErrors.count) bad policies left out"))
        let waiters = syncWaiters
        syncWaiters.removeAll()
        for w in waiters { w.resume() }
    }

    private func recordFailure(_ message: String) {
        failures += 1
        lastError = message
        logger.error("\(message)")
        metrics.applyFailures.increment()
        metrics.recordError(message)
        health.report(Self.component, ready: false, live: true, detail: message)
    }

    private func retryLater() {
        guard !flushScheduled else { return }
        flushScheduled = true
        let delay = min(10.0, 0.1 * pow(2.0, Double(min(failures, 8))))
        Task {
            try? await Task.sleep(for: .seconds(delay))
            try? self.dataplane.forget()
            await self.flush()
        }
    }

    private func updateGauges(_ ruleset: NFTRuleset) {
        let s = engine.state
        metrics.endpoints.set(to: Double(s.endpoints.count))
        metrics.policies.set(to: Double(s.policies.count))
        metrics.profiles.set(to: Double(s.profiles.count))
        metrics.rules.set(to: Double(ruleset.ruleCount))
        metrics.ipSets.set(to: Double(ruleset.sets.count))
        let unresolved = engine.unresolvedNamedPorts
        metrics.unresolvedNamedPorts.set(to: Double(unresolved.count))
        if unresolved != lastUnresolved {
            for id in unresolved where !lastUnresolved.contains(id) {
                logger.warning("\(id) resolves to no port of any selected endpoint; the rules using it match nothing")
            }
            lastUnresolved = unresolved
        }
    }
}
