import Core
import Foundation
import Prometheus
import XCTest
@testable import Policy

/// Records what felix would program.
final class RecordingDataplane: FelixDataplane, FelixEndpointDataplane, @unchecked Sendable {
    private let lock = NSLock()
    private var _rulesets: [NFTRuleset] = []
    private var _endpoints: [LocalEndpoint] = []
    var failNext = 0
    var forgets = 0

    var rulesets: [NFTRuleset] { lock.withLock { _rulesets } }
    var last: NFTRuleset? { rulesets.last }
    var endpoints: [LocalEndpoint] { lock.withLock { _endpoints } }

    func program(_ ruleset: NFTRuleset, changed: Set<String>?, deltas: [String: NFTSetDelta]) throws -> NFTPlan {
        try lock.withLock {
            if failNext > 0 {
                failNext -= 1
                throw NFTError.batchRejected([.init(operation: "add rule", errno: EPERM)])
            }
            _rulesets.append(ruleset)
            return NFTPlan(table: ruleset.table, family: ruleset.family)
        }
    }
    func forget() throws { lock.withLock { forgets += 1 } }
    func sync(_ endpoints: [LocalEndpoint]) -> EndpointManager.SyncResult {
        lock.withLock { _endpoints = endpoints }
        return EndpointManager.SyncResult()
    }
    func resync() -> EndpointManager.SyncResult { EndpointManager.SyncResult() }
}

final class FelixDaemonTests: XCTestCase {
    static func pod(_ name: String, ns: String, node: String = "n1", ip: String, labels: [String: String] = [:]) -> Pod {
        Pod(metadata: ObjectMeta(name: name, namespace: ns, labels: labels),
            spec: PodSpec(nodeName: node, containers: [Container(name: "c", ports: [ContainerPort(name: "serve-80-tcp", containerPort: 80)])]),
            status: PodStatus(phase: "Running", podIP: ip))
    }

    static func namespace(_ name: String) -> Namespace {
        Namespace(metadata: ObjectMeta(name: name, labels: ["kubernetes.io/metadata.name": name]))
    }

    struct Running {
        let api: InMemoryKubeAPI
        let daemon: FelixDaemon
        let dataplane: RecordingDataplane
        let health: HealthRegistry
        let metrics: PrometheusCollectorRegistry
        let task: Task<Void, Error>
    }

    private func start(_ api: InMemoryKubeAPI, env: [String: String] = [:], failFirst: Int = 0) -> Running {
        let dataplane = RecordingDataplane()
        dataplane.failNext = failFirst
        let health = HealthRegistry()
        let metrics = PrometheusCollectorRegistry()
        let daemon = FelixDaemon(engine: FelixEngine(nodeName: "n1", environment: env), dataplane: dataplane, endpoints: dataplane,
                                 health: health, metrics: FelixMetrics(registry: metrics))
        let task = Task { try await FelixRole.run(daemon: daemon, api: api, nodeName: "n1", watchLinks: false) }
        return Running(api: api, daemon: daemon, dataplane: dataplane, health: health, metrics: metrics, task: task)
    }

    /// Polls until `condition` holds (the daemon works asynchronously).
    private func eventually(_ what: String, timeout: Double = 5, _ condition: () async -> Bool) async {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if await condition() { return }
            try? await Task.sleep(for: .milliseconds(10))
        }
        XCTFail("timed out waiting for \(what)")
    }

    func testProgramsOnlyAfterEveryKindListedThenFollowsChanges() async throws {
        let api = InMemoryKubeAPI()
        _ = try await api.create(Self.namespace("x"))
        _ = try await api.create(Self.pod("a", ns: "x", ip: "10.0.0.1", labels: ["pod": "a"]))
        _ = try await api.create(Self.pod("b", ns: "x", ip: "10.0.0.2", labels: ["pod": "b"]))
        _ = try await api.create(Self.pod("remote", ns: "x", node: "n2", ip: "10.0.1.1", labels: ["pod": "r"]))
        _ = try await api.create(K8sNetworkPolicy(metadata: ObjectMeta(name: "deny", namespace: "x"), spec: K8sNetworkPolicySpec()))
        let r = start(api)
        defer { r.task.cancel() }
        await r.daemon.waitUntilProgrammed()

        // The first program already holds everything listed: no partial policy set ever.
        let first = try XCTUnwrap(r.dataplane.rulesets.first)
        let aIface = WorkloadEndpoint.hostInterfaceName(namespace: "x", pod: "a")
        XCTAssertEqual(first.sets["cali-wl-ifaces"]?.elements.contains(.ifname(aIface)), true)
        XCTAssertTrue(first.chains.keys.contains { $0.hasPrefix("cali-pi-") }, "the deny policy's chain: \(first.chains.keys.sorted())")
        XCTAssertEqual(Set(r.dataplane.endpoints.map(\.interfaceName)),
                       Set(["a", "b"].map { WorkloadEndpoint.hostInterfaceName(namespace: "x", pod: $0) }), "only local pods")
        XCTAssertEqual(r.health.health(of: "felix")?.ready, true)

        // A new local pod arrives: a later program dispatches its interface.
        _ = try await api.create(Self.pod("c", ns: "x", ip: "10.0.0.3", labels: ["pod": "c"]))
        let cIface = WorkloadEndpoint.hostInterfaceName(namespace: "x", pod: "c")
        await eventually("pod c programmed") { r.dataplane.last?.sets["cali-wl-ifaces"]?.elements.contains(.ifname(cIface)) == true }

        // The policy goes: its chain goes.
        try await api.delete(K8sNetworkPolicy.self, name: "deny", namespace: "x")
        await eventually("policy chain removed") { r.dataplane.last?.chains.keys.contains { $0.hasPrefix("cali-pi-") } == false }

        let text = String(decoding: MetricsRoutes.answer(r.metrics, method: "GET", path: "/metrics").body, as: UTF8.self)
        XCTAssertTrue(text.contains("felix_active_local_endpoints 3"), text)
        XCTAssertTrue(text.contains("felix_int_dataplane_apply_time_seconds_count"), text)
    }

    func testBadPolicyIsReportedAndLeftOutWhileTheRestStaysCorrect() async throws {
        let api = InMemoryKubeAPI()
        _ = try await api.create(Self.namespace("x"))
        _ = try await api.create(Self.pod("a", ns: "x", ip: "10.0.0.1", labels: ["pod": "a"]))
        _ = try await api.create(K8sNetworkPolicy(metadata: ObjectMeta(name: "good", namespace: "x"), spec: K8sNetworkPolicySpec()))
        let r = start(api)
        defer { r.task.cancel() }
        await r.daemon.waitUntilProgrammed()
        let before = try XCTUnwrap(r.dataplane.last)

        _ = try await api.create(CalicoNetworkPolicy(metadata: ObjectMeta(name: "bad", namespace: "x"),
                                                     spec: CalicoPolicySpec(selector: "pod == 'a' &&", types: ["Ingress"])))
        await eventually("bad policy recorded") { await r.daemon.policyErrors[PolicyKey(namespace: "x", name: "bad")] != nil }
        let reason = await r.daemon.policyErrors[PolicyKey(namespace: "x", name: "bad")] ?? ""
        XCTAssertTrue(reason.contains("selector"), reason)
        // Let any flush run, then the ruleset is what it was: the bad policy is not half-applied.
        try await Task.sleep(for: .milliseconds(100))
        XCTAssertEqual(r.dataplane.last, before)
        let text = String(decoding: MetricsRoutes.answer(r.metrics, method: "GET", path: "/metrics").body, as: UTF8.self)
        XCTAssertTrue(text.contains("felix_policy_errors 1"), text)
        XCTAssertTrue(text.contains("felix_policy_errors_total 1"), text)
        XCTAssertTrue(text.contains("felix_last_error_info{error=\"policy x/bad:"), text)
        XCTAssertTrue(r.health.health(of: "felix")?.detail.contains("1 bad policies left out") == true)

        // Fixed: applied, and the error clears.
        var fixed = try await api.get(CalicoNetworkPolicy.self, name: "bad", namespace: "x")
        fixed.spec.selector = "pod == 'a'"
        _ = try await api.update(fixed)
        await eventually("fixed policy programmed") { r.dataplane.last?.chains[RenderNames.policyChain(PolicyKey(namespace: "x", name: "bad"), ingress: true)] != nil }
        let errors = await r.daemon.policyErrors
        XCTAssertTrue(errors.isEmpty)
    }

    func testFelixConfigurationLayersLiveAndEnvWins() async throws {
        let api = InMemoryKubeAPI()
        _ = try await api.create(Self.namespace("x"))
        _ = try await api.create(Self.pod("a", ns: "x", ip: "10.0.0.1"))
        let r = start(api, env: ["FELIX_HEALTHPORT": "9999"])
        defer { r.task.cancel() }
        await r.daemon.waitUntilProgrammed()
        func hostVerdict() -> String? {
            r.dataplane.last?.chains[RenderNames.inputChain]?.rules.last.map { NFTText.rule($0) }
        }
        XCTAssertTrue(hostVerdict()?.hasSuffix("drop") == true, hostVerdict() ?? "")

        var spec = FelixConfigurationSpec()
        spec.defaultEndpointToHostAction = "Accept"
        spec.healthPort = 9100
        _ = try await api.create(FelixConfiguration(metadata: ObjectMeta(name: "default"), spec: spec))
        await eventually("endpoint-to-host accept") { hostVerdict()?.hasSuffix("accept") == true }
        var config = await r.daemon.config
        XCTAssertEqual(config.healthPort, 9999, "FELIX_HEALTHPORT wins over the global object")

        var nodeSpec = FelixConfigurationSpec()
        nodeSpec.defaultEndpointToHostAction = "Return"
        _ = try await api.create(FelixConfiguration(metadata: ObjectMeta(name: "node.n1"), spec: nodeSpec))
        await eventually("node object wins over default") { hostVerdict()?.hasSuffix("return") == true }
        _ = try await api.create(FelixConfiguration(metadata: ObjectMeta(name: "node.other"), spec: FelixConfigurationSpec()))
        try await api.delete(FelixConfiguration.self, name: "node.n1", namespace: nil)
        await eventually("back to the global value") { hostVerdict()?.hasSuffix("accept") == true }
        config = await r.daemon.config
        XCTAssertEqual(config.defaultEndpointToHostAction, "Accept")
    }

    func testFailedProgramIsRetriedAndReported() async throws {
        let api = InMemoryKubeAPI()
        _ = try await api.create(Self.namespace("x"))
        _ = try await api.create(Self.pod("a", ns: "x", ip: "10.0.0.1"))
        let r = start(api, failFirst: 2)
        defer { r.task.cancel() }
        await r.daemon.waitUntilProgrammed()
        XCTAssertEqual(r.dataplane.rulesets.count, 1)
        XCTAssertGreaterThanOrEqual(r.dataplane.forgets, 2, "each retry re-reads the kernel first")
        let text = String(decoding: MetricsRoutes.answer(r.metrics, method: "GET", path: "/metrics").body, as: UTF8.self)
        XCTAssertTrue(text.contains("felix_int_dataplane_failures_total 2"), text)
        XCTAssertEqual(r.health.health(of: "felix")?.ready, true)
    }

    func testCancellationReturnsAndReportsStopped() async throws {
        let api = InMemoryKubeAPI()
        let r = start(api)
        await r.daemon.waitUntilProgrammed()
        r.task.cancel()
        try await r.task.value
        XCTAssertEqual(r.health.health(of: "felix"), ComponentHealth(ready: false, live: false, detail: "stopped"))
    }

    func testNamedPortThatResolvesNowhereIsCountedAndMatchesNothing() async throws {
        let api = InMemoryKubeAPI()
        _ = try await api.create(Self.namespace("x"))
        _ = try await api.create(Self.pod("a", ns: "x", ip: "10.0.0.1", labels: ["pod": "a"]))
        let spec = K8sNetworkPolicySpec(podSelector: LabelSelector(matchLabels: ["pod": "a"]), ingress: [K8sNetworkPolicySpec.IngressRule(
            ports: [K8sNetworkPolicySpec.Port(protocol: "TCP", port: .string("no-such-port"))])])
        _ = try await api.create(K8sNetworkPolicy(metadata: ObjectMeta(name: "named", namespace: "x"), spec: spec))
        let r = start(api)
        defer { r.task.cancel() }
        await r.daemon.waitUntilProgrammed()
        let chain = try XCTUnwrap(r.dataplane.last?.chains[RenderNames.policyChain(PolicyKey(namespace: "x", name: "knp.default.named"), ingress: true)])
        // Its rules look up the named port's addresses and ports, which are none: they allow nothing.
        let named = chain.rules.flatMap(\.matches).compactMap { m -> String? in
            if case .addrPortInSet(_, _, _, let set, false) = m { return set } else { return nil }
        }
        XCTAssertEqual(named.count, 2, "one lookup per IP version: \(chain.rules)")
        XCTAssertEqual(chain.rules.count, named.count, "every rule needs the named port: \(chain.rules)")
        for set in named { XCTAssertEqual(r.dataplane.last?.sets[set]?.elements, [], set) }
        let text = String(decoding: MetricsRoutes.answer(r.metrics, method: "GET", path: "/metrics").body, as: UTF8.self)
        XCTAssertTrue(text.contains("felix_unresolved_named_ports 1"), text)
    }
}
