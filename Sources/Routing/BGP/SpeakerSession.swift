import Foundation
import NIOCore
import NIOPosix

/// Driving the state machines: events in, actions performed (all on the speaker's loop).
extension BGPSpeaker {
    /// The RFC 4724 state of the peer at `address`; nil when no such peer is configured.
    public func gracefulRestartStatus(_ address: IPAddress) async -> GracefulRestartStatus? {
        try? await loop.submit { () -> GracefulRestartStatus? in
            guard let peer = self.peers[address] else { return nil }
            return GracefulRestartStatus(local: peer.fsm.config.gracefulRestart, state: peer.graceful,
                                         timerRunning: peer.gracefulTimer != nil)
        }.get()
    }

    func handle(_ peer: SpeakerPeer, _ event: SessionEvent, skippingOpen: Bool = false) {
        let before = peer.fsm.state
        let reasonBefore = peer.fsm.lastDownReason
        var actions = peer.fsm.handle(event)
        if skippingOpen, let i = actions.firstIndex(where: { if case .send(.open) = $0 { return true } else { return false } }) {
            actions.remove(at: i)
        }
        if peer.fsm.state != before { peer.since = Date() }
        if let reason = peer.fsm.lastDownReason, reason != reasonBefore { peer.lastError = reason.summary }
        for action in actions { perform(action, for: peer) }
    }

    private func perform(_ action: SessionAction, for peer: SpeakerPeer) {
        switch action {
        case .connect:
            connect(peer)
        case .send(let message):
            peer.active?.send(message, context: peer.fsm.wireContext)
        case .startTimer(let timer, let seconds):
            peer.timers[timer]?.cancel()
            peer.timers[timer] = loop.scheduleTask(in: .seconds(Int64(seconds))) { [weak peer] in
                guard let peer, self.peers[peer.address] === peer else { return }
                peer.timers[timer] = nil
                self.handle(peer, .timerExpired(timer))
            }
        case .stopTimer(let timer):
            peer.timers.removeValue(forKey: timer)?.cancel()
        case .closeConnection:
            peer.active?.close()
            peer.active = nil
        case .established(let session):
            established(peer, session)
        case .down(let reason):
            down(peer, reason)
        case .deliver(let update):
            peer.updatesReceived += 1
            if let family = update.endOfRIB {
                graceful(peer.graceful.endOfRIB(family), peer)
            } else {
                apply(rib.receive(update, from: peer.address))
            }
        case .routeRefreshRequested(let family):
            guard let conn = peer.active else { return }
            let context = peer.fsm.wireContext
            for update in rib.refresh(peer.address, family: family).updates(context: context) {
                conn.send(.update(update), context: context, flush: false)
            }
            conn.send(.update(.endOfRIB(family)), context: context)
        }
    }

    private func established(_ peer: SpeakerPeer, _ session: NegotiatedSession) {
        peer.active?.framer.context = session.wireContext
        peer.lastError = nil
        graceful(peer.graceful.sessionEstablished(session), peer)
        let local = [peer.active?.localAddress].compactMap { $0 } + config.localAddresses
        var ribPeer = RIBPeer(address: peer.address, asn: session.peerAS, routerID: session.peerIdentifier,
                              families: session.families, localAddresses: local,
                              routeReflectorClient: peer.config.routeReflectorClient, nextHopSelf: peer.config.nextHopSelf)
        ribPeer.keepOriginalNextHop = peer.config.keepOriginalNextHop
        apply(rib.peerUp(ribPeer))
        // RFC 4724 2: End-of-RIB after the initial table, for every negotiated family.
        for family in session.families {
            peer.active?.send(.update(.endOfRIB(family)), context: session.wireContext)
        }
    }

    private func down(_ peer: SpeakerPeer, _ reason: SessionDownReason) {
        guard let session = peer.fsm.negotiated else {
            apply(rib.peerDown(peer.address))
            return
        }
        let actions = peer.graceful.sessionDown(reason, session: session)
        var retain: Set<AddressFamily> = []
        for case .retainStale(let families, let seconds) in actions {
            retain.formUnion(families)
            startGracefulTimer(peer, seconds: seconds)
        }
        apply(rib.peerDown(peer.address, retainFamilies: peer.stopped ? [] : retain))
    }

    /// Performs the RIB side of RFC 4724 bookkeeping.
    func graceful(_ actions: [GracefulRestartState.Action], _ peer: SpeakerPeer) {
        for action in actions {
            switch action {
            case .purgeStale(let family):
                apply(rib.purgeStale(peer.address, family: family))
            case .startStalePathTimer(let seconds):
                startGracefulTimer(peer, seconds: seconds)
            case .stopRestartTimer:
                peer.gracefulTimer?.cancel()
                peer.gracefulTimer = nil
            case .retainStale, .purge:
                break // only produced by sessionDown, handled there
            }
        }
    }

    private func startGracefulTimer(_ peer: SpeakerPeer, seconds: Int) {
        peer.gracefulTimer?.cancel()
        peer.gracefulTimer = loop.scheduleTask(in: .seconds(Int64(seconds))) { [weak peer] in
            guard let peer, self.peers[peer.address] === peer else { return }
            peer.gracefulTimer = nil
            self.graceful(peer.graceful.timerExpired(), peer)
        }
    }

    // MARK: connections

    private func connect(_ peer: SpeakerPeer) {
        let config = peer.config
        let sockets = self.sockets
        let pending = peer.connects
        DispatchQueue.global().async {
            let outcome = Result {
                try sockets.connect(to: config.address, port: config.port, source: config.sourceAddress,
                                    password: config.password, pending: pending)
            }
            // The peer may have been stopped (and the speaker's loop shut down) while connect(2) blocked.
            let handedOver = pending.unlessClosed {
                switch outcome {
                case .success(let fd):
                    ClientBootstrap(group: self.loop)
                        .channelInitializer { channel in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(BGPChannelHandler(speaker: self, origin: .outbound))
                            }
                        }
                        .withConnectedSocket(fd)
                        .whenFailure { error in self.connectFailed(config.address, error) }
                case .failure(let error):
                    self.loop.execute { self.connectFailed(config.address, error) }
                }
            }
            if !handedOver, case .success(let fd) = outcome { close(fd) }
        }
    }

    private func connectFailed(_ address: IPAddress, _ error: Error) {
        guard let peer = peers[address], peer.active == nil, peer.fsm.state == .connect else { return }
        peer.lastError = "\(error)"
        handle(peer, .tcpConnectionFails)
    }

    /// A connection came up; returns nil when it is to be closed.
    func connectionUp(_ channel: Channel, origin: ConnectionOrigin) -> BGPConnection? {
        nextConnectionID += 1
        let conn = BGPConnection(id: nextConnectionID, channel: channel, origin: origin)
        guard let remote = conn.remoteAddress, let peer = peers[remote], !peer.stopped else { return nil }
        if peer.active == nil {
            if peer.fsm.state == .idle { handle(peer, .manualStartPassive) }
            guard peer.fsm.state == .connect || peer.fsm.state == .active else { return nil }
            peer.active = conn
            handle(peer, .tcpConnected(origin))
            return conn
        }
        guard peer.secondary == nil else { return nil }
        // A collision candidate: send our OPEN and decide when its OPEN arrives (RFC 4271 6.8).
        peer.secondary = conn
        conn.openSent = true
        conn.send(.open(peer.fsm.config.openMessage), context: WireContext())
        return conn
    }

    func connectionClosed(_ conn: BGPConnection) {
        for peer in peers.values {
            if peer.secondary === conn { peer.secondary = nil }
            if peer.active === conn {
                peer.active = nil
                handle(peer, .tcpConnectionFails)
            }
        }
    }

    func received(_ bytes: [UInt8], on conn: BGPConnection) {
        guard let remote = conn.remoteAddress, let peer = peers[remote] else { return }
        conn.framer.append(bytes)
        while peer.active === conn || peer.secondary === conn {
            let message: BGPMessage?
            do {
                message = try conn.framer.nextMessage()
            } catch {
                if peer.active === conn { handle(peer, .decodeError(error)) } else { reject(conn, error, peer) }
                return
            }
            guard let message else { return }
            if peer.secondary === conn { collision(peer, conn, message) } else { handle(peer, .messageReceived(message)) }
        }
    }

    private func reject(_ conn: BGPConnection, _ notification: NotificationMessage, _ peer: SpeakerPeer) {
        conn.send(.notification(notification), context: WireContext())
        conn.close()
        if peer.secondary === conn { peer.secondary = nil }
    }

    private func collision(_ peer: SpeakerPeer, _ conn: BGPConnection, _ message: BGPMessage) {
        guard case .open(let open) = message else {
            return reject(conn, NotificationMessage(.finiteStateMachine(.unexpectedMessageInOpenSent)), peer)
        }
        let existing = peer.fsm.connectionOrigin ?? peer.active?.origin ?? .outbound
        let outcome = CollisionDetection.resolve(
            existingState: peer.fsm.state, existingOrigin: existing, localIdentifier: config.routerID,
            remoteIdentifier: open.bgpIdentifier, localAS: config.localAS, remoteAS: open.asNumber,
            gracefulRestartNegotiated: peer.fsm.negotiated?.peerGracefulRestart != nil)
        guard outcome == .closeExisting else {
            return reject(conn, NotificationMessage(.cease(.connectionCollisionResolution)), peer)
        }
        handle(peer, .openCollisionDump)
        peer.active?.close()
        peer.secondary = nil
        handle(peer, .manualStartPassive)
        peer.active = conn
        handle(peer, .tcpConnected(conn.origin), skippingOpen: true)
        handle(peer, .messageReceived(message))
    }
}
