import Foundation
import NIOCore
import NIOPosix

/// A BGP-4 speaker: listens, connects, drives one `SessionFSM` per configured peer with real
/// timers, feeds UPDATEs into the `RIB` and sends what it says. Every piece of state lives on
/// one event loop (all channels and timers use it), which is why `@unchecked Sendable` is sound;
/// the public methods hop onto that loop.
public final class BGPSpeaker: @unchecked Sendable {
    public let config: BGPSpeakerConfig
    let loop: EventLoop
    private let ownedGroup: MultiThreadedEventLoopGroup?
    let sockets: SocketFactory
    var rib: RIB
    var peers: [IPAddress: SpeakerPeer] = [:]
    var listener: Channel?
    var listenFD: Int32 = -1
    var nextConnectionID = 0
    /// Consumers of `locRIBChanges` waiting for the next change, by id.
    var kernelWaiters: [(id: Int, continuation: CheckedContinuation<[LocRIBChange]?, Never>)] = []
    var nextWaiterID = 0
    var cancelledWaiters: Set<Int> = []
    var feedFinished = false
    /// Loc-RIB changes for the kernel route programmer (coalesced per prefix; see the type).
    public var locRIBChanges: LocRIBChangeFeed { LocRIBChangeFeed(speaker: self) }
    /// Changes handed out per batch.
    static let kernelBatchLimit = 512

    public init(config: BGPSpeakerConfig, eventLoopGroup: EventLoopGroup? = nil) {
        self.config = config
        if let eventLoopGroup {
            ownedGroup = nil
            loop = eventLoopGroup.next()
        } else {
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            ownedGroup = group
            loop = group.next()
        }
        sockets = SocketFactory(namespacePath: config.networkNamespacePath)
        MemoryTuning.applyOnce()
        rib = RIB(config: RIBConfig(localAS: config.localAS, routerID: config.routerID, clusterID: config.clusterID),
                  trackKernel: config.publishLocRIBChanges, reportChanges: false)
    }

    // MARK: public API

    /// Starts listening (when a listen address is configured).
    public func start() async throws {
        guard let address = config.listenAddress else { return }
        let keys = try await loop.submit { self.peers.values.compactMap { p in p.config.password.map { (p.address, $0) } } }.get()
        let fd = try sockets.listen(address: address, port: config.listenPort, md5Keys: keys)
        let channel = try await ServerBootstrap(group: loop)
            .serverChannelOption(.backlog, value: 64)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(BGPChannelHandler(speaker: self, origin: .inbound))
                }
            }
            .withBoundSocket(fd).get()
        try await loop.submit {
            self.listener = channel
            self.listenFD = fd
        }.get()
    }

    /// Adds a peer and starts its session (replacing one with the same address).
    public func addPeer(_ peer: BGPPeerConfig) async throws {
        try await loop.submit {
            if self.peers[peer.address] != nil { self.stopPeer(peer.address, communication: "peer reconfigured") }
            if self.listenFD >= 0, let password = peer.password {
                try SocketFactory.setMD5(fd: self.listenFD, peer: peer.address, password: password,
                                         mapped: self.config.listenAddress?.family == .ipv6)
            }
            let runtime = SpeakerPeer(config: peer, session: self.config.sessionConfig(for: peer))
            self.peers[peer.address] = runtime
            self.handle(runtime, .manualStart)
        }.get()
    }

    /// Stops the session with an RFC 8203 Administrative Shutdown and forgets the peer and its routes.
    public func removePeer(_ address: IPAddress, communication: String = "peer removed") async {
        try? await loop.submit { self.stopPeer(address, communication: communication) }.get()
    }

    /// Advertises one of our own prefixes to every peer.
    public func originate(_ prefix: IPPrefix) async {
        try? await loop.submit { self.apply(self.rib.originate(prefix)) }.get()
    }

    public func originate(_ prefixes: [IPPrefix]) async {
        try? await loop.submit { self.apply(self.rib.originate(prefixes)) }.get()
    }

    public func withdraw(_ prefix: IPPrefix) async {
        try? await loop.submit { self.apply(self.rib.withdrawLocal(prefix)) }.get()
    }

    public func status() async -> [BGPPeerStatus] {
        (try? await loop.submit {
            self.peers.values.map { p in
                BGPPeerStatus(address: p.address, asn: p.config.asn, state: p.fsm.state, since: p.since,
                              lastError: p.lastError, prefixesReceived: self.rib.receivedCount(p.address),
                              prefixesAdvertised: self.rib.advertisedCount(p.address), updatesReceived: p.updatesReceived)
            }.sorted { $0.address < $1.address }
        }.get()) ?? []
    }

    public func locRIBCount() async -> Int {
        (try? await loop.submit { self.rib.locRIBCount }.get()) ?? 0
    }

    /// The current Loc-RIB: best route and multipath set per prefix.
    public func locRIB() async -> [IPPrefix: BestPath.Selection] {
        (try? await loop.submit { self.rib.locRIB }.get()) ?? [:]
    }

    /// Stops every session with an RFC 8203 Administrative Shutdown carrying `communication`,
    /// closes the listener, and ends the Loc-RIB change stream.
    public func shutdown(communication: String = "speaker shutting down") async {
        let closing = try? await loop.submit { () -> [EventLoopFuture<Void>] in
            for address in Array(self.peers.keys) { self.stopPeer(address, communication: communication) }
            return self.closeListener()
        }.get()
        for f in closing ?? [] { try? await f.get() }
        try? await Task.sleep(nanoseconds: 100_000_000) // let the NOTIFICATIONs reach the wire
        await finishStopping()
    }

    /// Stops for a graceful restart (RFC 4724): connections are closed without a NOTIFICATION,
    /// so peers that negotiated graceful restart keep our routes until we are back (start the
    /// next speaker with `restarting = true`).
    public func stopForRestart() async {
        let closing = try? await loop.submit { () -> [EventLoopFuture<Void>] in
            for peer in self.peers.values {
                peer.stopped = true
                peer.cancelTimers()
                peer.active?.close()
                peer.secondary?.close()
                peer.active = nil
                peer.secondary = nil
            }
            self.peers = [:]
            return self.closeListener()
        }.get()
        for f in closing ?? [] { try? await f.get() }
        await finishStopping()
    }

    /// On the loop: forgets the listener and returns its closing.
    private func closeListener() -> [EventLoopFuture<Void>] {
        let listener = self.listener
        self.listener = nil
        listenFD = -1
        return listener.map { [$0.close()] } ?? []
    }

    /// Ends the Loc-RIB change feed and releases the event loops we own.
    private func finishStopping() async {
        try? await loop.submit {
            self.feedFinished = true
            let waiters = self.kernelWaiters
            self.kernelWaiters = []
            for w in waiters { w.continuation.resume(returning: nil) }
        }.get()
        try? await ownedGroup?.shutdownGracefully()
    }

    // MARK: loop-confined internals

    func stopPeer(_ address: IPAddress, communication: String) {
        guard let peer = peers[address] else { return }
        peer.stopped = true
        handle(peer, .manualStop(.cease(.administrativeShutdown, communication: communication)))
        peer.active?.close()
        peer.secondary?.close()
        peer.active = nil
        peer.secondary = nil
        peer.cancelTimers()
        apply(rib.peerDown(address))
        peers[address] = nil
        if listenFD >= 0, peer.config.password != nil {
            try? SocketFactory.setMD5(fd: listenFD, peer: address, password: "", mapped: config.listenAddress?.family == .ipv6)
        }
    }

    /// Sends each peer its Adj-RIB-Out changes and publishes Loc-RIB changes.
    func apply(_ changes: RIBChanges) {
        for (address, out) in changes.outbound {
            guard let peer = peers[address], peer.fsm.state == .established, let conn = peer.active else { continue }
            for update in out.updates(context: peer.fsm.wireContext) {
                conn.send(.update(update), context: peer.fsm.wireContext, flush: false)
            }
            conn.flush()
        }
        if !kernelWaiters.isEmpty, rib.kernelChangesPending {
            let w = kernelWaiters.removeFirst()
            w.continuation.resume(returning: rib.takeKernelChanges(limit: Self.kernelBatchLimit))
        }
    }

    /// The next batch for the kernel: waits until some prefix changed; nil once stopped or
    /// when the waiting task is cancelled.
    func nextKernelBatch() async -> [LocRIBChange]? {
        // Fails once our own event loop is shut down: the feed has ended.
        guard let id = try? await loop.submit({ () -> Int in
            self.nextWaiterID += 1
            return self.nextWaiterID
        }).get() else { return nil }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<[LocRIBChange]?, Never>) in
                loop.execute {
                    if self.feedFinished || self.cancelledWaiters.remove(id) != nil { return c.resume(returning: nil) }
                    if self.rib.kernelChangesPending {
                        return c.resume(returning: self.rib.takeKernelChanges(limit: Self.kernelBatchLimit))
                    }
                    self.kernelWaiters.append((id, c))
                }
            }
        } onCancel: {
            loop.execute {
                guard let i = self.kernelWaiters.firstIndex(where: { $0.id == id }) else {
                    self.cancelledWaiters.insert(id) // cancelled before it started waiting
                    return
                }
                self.kernelWaiters.remove(at: i).continuation.resume(returning: nil)
            }
        }
    }
}
