import Core
import Foundation
import Logging
import Prometheus

/// The BGP role of calico-node: watches Nodes, BGPConfigurations, BGPPeers and IPAMBlocks,
/// turns them into the desired peer set (`PeerPlanner`) and this node's own prefixes
/// (`OwnPrefixes`), applies the difference to a `BGPSpeaker` live, and programs the speaker's
/// Loc-RIB into the kernel (`KernelRouteProgrammer`). Reports health component "bgp" (ready when
/// every configured session is Established), serves GET /bgp/peers, and keeps metrics.
///
/// Kernel routes outlive the role, as with BIRD's `persist` in Calico's configuration: a stop
/// or a restart of the speaker leaves them, and the resync after the next start removes the
/// ones nothing re-announced. A peer removed from the configuration takes its routes with it.
///
/// Stopping (cancellation, i.e. SIGTERM) closes every session with a Cease and a shutdown
/// communication, or, with `gracefulRestartOnStop` on, is an RFC 4724 graceful restart:
/// sessions close without a NOTIFICATION, peers keep our routes
/// for the restart time, and a marker file lets the next start come up with the R bit, announce
/// our prefixes before its End-of-RIB, and keep the kernel routes it finds until every peer's
/// End-of-RIB (`KernelResyncGate`). Disabling BGP administratively (the node loses its BGP
/// settings, a peer is removed) still sends Cease with an RFC 8203 shutdown communication.
public actor BGPRole {
    public nonisolated let nodeName: String
    private let api: any KubeAPI
    private let options: BGPRoleOptions
    private let health: HealthRegistry?
    private let metrics: BGPRoleMetrics?
    private let logger: Logger

    private let nodes: Reflector<K8sNode>
    private let configurations: Reflector<BGPConfiguration>
    private let bgpPeers: Reflector<BGPPeer>
    private let blocks: Reflector<IPAMBlock>

    private var speaker: BGPSpeaker?
    private var local: LocalBGPSettings?
    private var applied: [IPAddress: BGPPeerConfig] = [:]
    private var desired: [IPAddress: DesiredPeer] = [:]
    private var originated: Set<IPPrefix> = []
    private var problems: [String] = []
    private var kernel: KernelRouteProgrammer?
    private var kernelTask: Task<Void, Never>?
    private var speakerStarted = Date()
    private var graceResyncDone = false
    private var lastResync = Date()
    /// The current speaker came up as a restarting one (R bit).
    private var restartingStart = false
    /// The graceful restart marker is read by the first start only.
    private var markerRead = false

    public init(api: any KubeAPI, nodeName: String, options: BGPRoleOptions = BGPRoleOptions(),
                health: HealthRegistry? = nil, metrics: PrometheusCollectorRegistry? = nil,
                logger: Logger = Logger(label: "calico.bgp")) {
        self.api = api
        self.nodeName = nodeName
        self.options = options
        self.health = health
        self.metrics = metrics.map(BGPRoleMetrics.init(registry:))
        self.logger = logger
        nodes = Reflector(api: api)
        configurations = Reflector(api: api)
        bgpPeers = Reflector(api: api)
        blocks = Reflector(api: api)
    }

    /// The entry point for `calico-node bgp` and `calico-node run --bgp`: runs until cancelled,
    /// then stops for a graceful restart (or, with `gracefulRestartOnStop` off, closes every
    /// session with an RFC 8203 shutdown communication).
    public static func run(api: any KubeAPI, nodeName: String, options: BGPRoleOptions = BGPRoleOptions(),
                           health: HealthRegistry? = nil, metrics: PrometheusCollectorRegistry? = nil) async throws {
        try await BGPRole(api: api, nodeName: nodeName, options: options, health: health, metrics: metrics).run()
    }

    /// Runs until the calling task is cancelled.
    public func run() async throws {
        health?.register("bgp")
        health?.report("bgp", ready: false, live: true, detail: "waiting for the datastore")
        health?.addJSONEndpoint("/bgp/peers") { [weak self] in
            guard let self else { throw CancellationError() }
            return await self.peerTable()
        }
        let (signals, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        var helpers: [Task<Void, Never>] = []
        helpers.append(watch(nodes, signal))
        helpers.append(watch(configurations, signal))
        helpers.append(watch(bgpPeers, signal))
        helpers.append(watch(blocks, signal))
        for r in [nodes as any ReflectorStarting, configurations, bgpPeers, blocks] { await r.startAndSync() }
        helpers.append(Task { [weak self, options] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(options.statusSeconds * 1_000_000_000))
                guard let self, !Task.isCancelled else { return }
                if await self.tick() { signal.yield() }
            }
        })
        signal.yield()
        for await _ in signals {
            if Task.isCancelled { break }
            await reconcile()
        }
        for h in helpers { h.cancel() }
        if options.gracefulRestartOnStop && options.gracefulRestartSeconds > 0 {
            await stopForRestart()
        } else {
            await stopSpeaker(communication: "calico-node shutting down")
        }
        await nodes.stop()
        await configurations.stop()
        await bgpPeers.stop()
        await blocks.stop()
        health?.report("bgp", ready: false, live: false, detail: "stopped")
    }

    private nonisolated func watch<T: KubeResource>(_ reflector: Reflector<T>, _ signal: AsyncStream<Void>.Continuation) -> Task<Void, Never> {
        Task {
            for await _ in await reflector.events() { signal.yield() }
        }
    }

    // MARK: reconciliation

    /// Brings the speaker in line with the datastore.
    func reconcile() async {
        let nodeSpecs = await nodes.snapshot().values.map(NodeBGPSpec.init(node:))
        var configs: [String: BGPConfigurationSpec] = [:]
        for c in await configurations.snapshot().values { configs[c.metadata.name] = c.spec }
        let plan = PeerPlanner.plan(nodeName: nodeName, nodes: nodeSpecs, configurations: configs,
                                    peers: Array(await bgpPeers.snapshot().values))
        var problems = plan.problems
        guard let newLocal = plan.local else {
            if speaker != nil { await stopSpeaker(communication: "BGP disabled on this node") }
            self.problems = problems
            await refreshStatus()
            return
        }
        if newLocal != local || speaker == nil {
            do {
                try await startSpeaker(newLocal)
            } catch {
                self.problems = problems + ["cannot start the BGP speaker: \(error)"]
                await refreshStatus()
                return
            }
        }
        guard let speaker else { return }

        // Our prefixes go into the table before any peer is added, so that a new session's
        // initial UPDATEs carry them and its End-of-RIB never precedes them (after a graceful
        // restart, peers drop whatever of ours that End-of-RIB did not re-announce).
        let me = nodeSpecs.first { $0.name == nodeName }
        let own = OwnPrefixes.compute(nodeName: nodeName, blocks: Array(await blocks.snapshot().values), podCIDRs: me?.podCIDRs ?? [])
        for prefix in originated.subtracting(own) { await speaker.withdraw(prefix) }
        let added = own.subtracting(originated)
        if !added.isEmpty { await speaker.originate(added.sorted()) }
        originated = own

        var want: [IPAddress: BGPPeerConfig] = [:]
        var meta: [IPAddress: DesiredPeer] = [:]
        for peer in plan.peers {
            var password: String?
            if let ref = peer.password {
                do { password = try await secretValue(ref) } catch {
                    problems.append("peer \(peer.address): \(error)")
                    continue
                }
            }
            want[peer.address] = peer.speakerConfig(password: password, holdTime: options.holdTime,
                                                    connectRetrySeconds: options.connectRetrySeconds)
            meta[peer.address] = peer
        }
        for address in applied.keys where want[address] == nil {
            logger.info("removing BGP peer \(address)")
            await speaker.removePeer(address, communication: "peer removed from the Calico configuration")
            applied[address] = nil
        }
        for (address, config) in want.sorted(by: { $0.key < $1.key }) where applied[address] != config {
            do {
                logger.info("\(applied[address] == nil ? "adding" : "updating") BGP peer \(address) AS \(config.asn)")
                try await speaker.addPeer(config)
                applied[address] = config
            } catch {
                problems.append("peer \(address): \(error)")
            }
        }
        desired = meta
        self.problems = problems
        await refreshStatus()
    }

    private func startSpeaker(_ settings: LocalBGPSettings) async throws {
        await stopSpeaker(communication: "BGP configuration of this node changed")
        let restarting = options.gracefulRestartSeconds > 0 && consumeRestartMarker()
        func config(listen: String) -> BGPSpeakerConfig {
            var c = BGPSpeakerConfig(localAS: settings.asn, routerID: settings.routerID, listenAddress: IPAddress(listen),
                             listenPort: settings.listenPort, clusterID: settings.clusterID,
                             gracefulRestartSeconds: options.gracefulRestartSeconds,
                             localAddresses: [settings.ipv4, settings.ipv6].compactMap { $0 },
                             networkNamespacePath: options.networkNamespacePath)
            c.restarting = restarting
            return c
        }
        let bind = settings.bindToNodeIP ? (settings.ipv4 ?? settings.ipv6)?.description : nil
        var s = BGPSpeaker(config: config(listen: bind ?? "::"))
        do {
            try await s.start()
        } catch where settings.ipv6 == nil && bind == nil {
            // No IPv6 in this namespace: listen on IPv4 only.
            await s.shutdown()
            s = BGPSpeaker(config: config(listen: "0.0.0.0"))
            try await s.start()
        }
        logger.info("BGP speaker up: AS \(settings.asn), router ID \(IPAddress.v4(settings.routerID)), port \(settings.listenPort)\(settings.clusterID.map { ", route reflector cluster \(IPAddress.v4($0))" } ?? "")\(restarting ? ", restarting gracefully (R bit)" : "")")
        speaker = s
        local = settings
        applied = [:]
        originated = []
        speakerStarted = Date()
        graceResyncDone = false
        restartingStart = restarting
        guard options.programKernel else { return }
        if kernel == nil {
            kernel = try KernelRouteProgrammer(namespace: options.networkNamespacePath.map(NetNamespace.init(path:)), logger: logger)
        }
        guard let kernel else { return }
        await kernel.newGeneration()
        kernelTask = Task {
            for await batch in s.locRIBChanges {
                await kernel.apply(batch)
            }
        }
    }

    /// Stops for an RFC 4724 graceful restart: sessions close without a NOTIFICATION (our
    /// speaker does not offer RFC 8538's N bit, so a Cease would end graceful restart on every
    /// peer) and the stop is recorded for the next start. The kernel keeps its routes.
    private func stopForRestart() async {
        guard let s = detachSpeaker() else { return }
        await s.stopForRestart()
        guard let path = options.restartStatePath else { return }
        do {
            try GracefulRestartMarker(path: path).write()
            logger.info("BGP stopped for a graceful restart; peers keep our routes for \(options.gracefulRestartSeconds) s")
        } catch {
            logger.warning("BGP stopped for a graceful restart but cannot record it in \(path) (the next start will not set the R bit): \(error)")
        }
    }

    /// True (once) when the previous run stopped for a graceful restart within the restart time.
    private func consumeRestartMarker() -> Bool {
        guard !markerRead else { return false }
        markerRead = true
        guard let path = options.restartStatePath else { return false }
        return GracefulRestartMarker(path: path).consume(restartSeconds: Double(options.gracefulRestartSeconds))
    }

    /// Stops the speaker; the kernel keeps its routes (see the type's comment).
    private func stopSpeaker(communication: String) async {
        await detachSpeaker()?.shutdown(communication: communication)
    }

    /// Forgets the running speaker (and stops feeding the kernel from it); returns it for stopping.
    private func detachSpeaker() -> BGPSpeaker? {
        kernelTask?.cancel()
        kernelTask = nil
        let s = speaker
        speaker = nil
        local = nil
        applied = [:]
        originated = []
        return s
    }

    private func secretValue(_ ref: SecretKeySource.Ref) async throws -> String {
        let secret: Secret
        do {
            secret = try await api.get(Secret.self, name: ref.name, namespace: options.secretNamespace)
        } catch {
            throw BGPRoleError.secret("cannot read Secret \(options.secretNamespace)/\(ref.name) for the BGP password: \(error)")
        }
        guard let value = secret.decodedValue(ref.key) else {
            throw BGPRoleError.secret("Secret \(options.secretNamespace)/\(ref.name) has no key '\(ref.key)' (base64 UTF-8) for the BGP password")
        }
        return value
    }

    // MARK: status

    /// Refreshes health and metrics; true when a periodic reconcile is due.
    private func tick() async -> Bool {
        let statuses = await refreshStatus()
        guard let kernel, speaker != nil else { return false }
        if !graceResyncDone, let speaker {
            // After a graceful restart peers may take up to the restart time to come back.
            let limit = restartingStart ? max(options.startupGraceSeconds, Double(options.gracefulRestartSeconds)) : options.startupGraceSeconds
            var peers: [(status: BGPPeerStatus, graceful: GracefulRestartStatus?)] = []
            for s in statuses where applied[s.address] != nil { peers.append((s, await speaker.gracefulRestartStatus(s.address))) }
            let elapsed = Date().timeIntervalSince(speakerStarted)
            if KernelResyncGate(limit: limit).ready(peers: peers, configured: applied.count, elapsed: elapsed) {
                graceResyncDone = true
                lastResync = Date()
                logger.info("removing our kernel routes that no peer re-announced (\(Int(elapsed)) s after start, \(elapsed >= limit ? "time limit" : "every End-of-RIB in"))")
                await kernel.resync()
            }
        }
        guard Date().timeIntervalSince(lastResync) >= options.resyncSeconds else { return false }
        lastResync = Date()
        // Before the first resync after a start, stale routes of ours still carry traffic.
        if graceResyncDone { await kernel.resync() }
        return true // also re-reads Secrets (password rotation)
    }

    @discardableResult
    private func refreshStatus() async -> [BGPPeerStatus] {
        let statuses = await speaker?.status() ?? []
        let up = statuses.filter { $0.state == .established }.count
        var detail: String
        let ready: Bool
        if speaker == nil {
            ready = false
            detail = "BGP speaker not running"
        } else {
            ready = up == statuses.count && statuses.count == applied.count
            detail = "\(up) of \(statuses.count) BGP sessions established"
            let down = statuses.filter { $0.state != .established }.map { "\($0.address) \($0.state.rawValue)" }
            if !down.isEmpty { detail += " (not: \(down.joined(separator: ", ")))" }
        }
        if !problems.isEmpty { detail += "; " + problems.joined(separator: "; ") }
        health?.report("bgp", ready: ready, live: true, detail: detail)
        metrics?.update(statuses, kernelRouteCount: await kernel?.installedCount())
        return statuses
    }

    /// What GET /bgp/peers serves.
    public func peerTable() async -> BGPPeerTable {
        let statuses = await speaker?.status() ?? []
        return BGPPeerTable(running: speaker != nil, nodeName: nodeName, asNumber: local?.asn,
                            routerID: local.map { IPAddress.v4($0.routerID).description },
                            peers: statuses.map { BGPPeerTableEntry(status: $0, peer: desired[$0.address]) },
                            problems: problems)
    }

    /// The speaker's Loc-RIB (for tests and diagnostics).
    public func locRIB() async -> [IPPrefix: BestPath.Selection] { await speaker?.locRIB() ?? [:] }

    /// Routes of ours in the kernel, as far as the programmer knows.
    public func kernelRouteCount() async -> Int { await kernel?.installedCount() ?? 0 }
}

public enum BGPRoleError: Error, CustomStringConvertible {
    case secret(String)
    case configuration(String)

    public var description: String {
        switch self {
        case .secret(let m), .configuration(let m): return m
        }
    }
}

/// Lets the role start its reflectors of different kinds in one loop.
protocol ReflectorStarting: Sendable {
    func startAndSync() async
}

extension Reflector: ReflectorStarting {
    func startAndSync() async {
        start()
        await waitForSync()
    }
}
