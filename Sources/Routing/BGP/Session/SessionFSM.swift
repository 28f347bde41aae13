/// The RFC 4271 section 8 finite state machine for one connection to one peer, without I/O:
/// feed it events, perform the actions it returns. DelayOpen is not used; collision detection
/// is decided by `CollisionDetection` and delivered as `.openCollisionDump`.
public struct SessionFSM: Sendable {
    public let config: SessionConfig
    public private(set) var state: SessionState = .idle
    /// Counts failed attempts (RFC 4271 ConnectRetryCounter); reset on ManualStop and success.
    public private(set) var connectRetryCounter = 0
    public private(set) var negotiated: NegotiatedSession?
    /// Why the session last left a non-Idle state (for status displays).
    public private(set) var lastDownReason: SessionDownReason?
    /// Origin of the current connection, once one is up.
    public private(set) var connectionOrigin: ConnectionOrigin?

    public init(config: SessionConfig) { self.config = config }

    /// The wire context for decoding this connection's messages right now.
    public var wireContext: WireContext {
        negotiated?.wireContext ?? WireContext(fourOctetAS: true, extendedMessages: false)
    }

    public mutating func handle(_ event: SessionEvent) -> [SessionAction] {
        switch state {
        case .idle: return idle(event)
        case .connect, .active: return connecting(event)
        case .openSent: return openSent(event)
        case .openConfirm: return openConfirm(event)
        case .established: return established(event)
        }
    }

    // MARK: states

    private mutating func idle(_ event: SessionEvent) -> [SessionAction] {
        switch event {
        case .manualStart, .automaticStart, .timerExpired(.idleHold):
            return start(passive: config.passive)
        case .manualStartPassive:
            return start(passive: true)
        default:
            return [] // RFC 4271 8.2.2: Idle ignores everything else.
        }
    }

    private mutating func start(passive: Bool) -> [SessionAction] {
        negotiated = nil
        var actions: [SessionAction] = [.stopTimer(.idleHold), .startTimer(.connectRetry, seconds: config.connectRetrySeconds)]
        if passive {
            state = .active
        } else {
            state = .connect
            actions.append(.connect)
        }
        return actions
    }

    /// Connect and Active differ only in whether an outbound attempt is in flight.
    private mutating func connecting(_ event: SessionEvent) -> [SessionAction] {
        switch event {
        case .manualStart, .automaticStart, .manualStartPassive:
            return []
        case .manualStop(let n):
            connectRetryCounter = 0
            return toIdle(.manualStop(n ?? Self.adminShutdown), sending: nil, automaticRestart: false)
        case .automaticStop(let n):
            connectRetryCounter += 1
            return toIdle(.notificationSent(n), sending: nil)
        case .timerExpired(.connectRetry):
            state = .connect
            return [.closeConnection, .startTimer(.connectRetry, seconds: config.connectRetrySeconds), .connect]
        case .tcpConnected(let origin):
            connectionOrigin = origin
            state = .openSent
            return [.stopTimer(.connectRetry), .send(.open(config.openMessage)),
                    .startTimer(.hold, seconds: config.largeHoldSeconds)]
        case .tcpConnectionFails:
            connectRetryCounter += 1
            if state == .connect, config.idleHoldSeconds == nil {
                // Keep trying on the ConnectRetry schedule, listening meanwhile (RFC 4271 8.2.2 Active).
                state = .active
                return [.closeConnection, .startTimer(.connectRetry, seconds: config.connectRetrySeconds)]
            }
            return toIdle(.connectionFailed, sending: nil)
        default:
            // RFC 4271 8.2.2: anything else drops the connection without a NOTIFICATION.
            connectRetryCounter += 1
            return toIdle(.connectionFailed, sending: nil)
        }
    }

    private mutating func openSent(_ event: SessionEvent) -> [SessionAction] {
        switch event {
        case .messageReceived(.open(let open)):
            do throws(NotificationMessage) {
                let session = try OpenNegotiation.negotiate(peer: open, config: config)
                negotiated = session
                state = .openConfirm
                var actions: [SessionAction] = [.stopTimer(.connectRetry), .send(.keepalive)]
                actions += holdAndKeepaliveTimers(session)
                return actions
            } catch {
                return failure(error)
            }
        case .messageReceived(.notification(let n)):
            // RFC 4271 8.2.2 event 24: a version error does not count as a failed attempt.
            if n.error != .openMessage(.unsupportedVersionNumber) { connectRetryCounter += 1 }
            return toIdle(.notificationReceived(n), sending: nil)
        case .tcpConnectionFails:
            // RFC 4271 8.2.2: back to Active, keep listening, retry later.
            state = .active
            connectionOrigin = nil
            return [.closeConnection, .stopTimer(.hold), .startTimer(.connectRetry, seconds: config.connectRetrySeconds)]
        default:
            return common(event, unexpected: .unexpectedMessageInOpenSent)
        }
    }

    private mutating func openConfirm(_ event: SessionEvent) -> [SessionAction] {
        switch event {
        case .messageReceived(.keepalive):
            guard let session = negotiated else { return failure(NotificationMessage(.finiteStateMachine(.unspecified))) }
            state = .established
            connectRetryCounter = 0
            var actions: [SessionAction] = session.holdTime > 0 ? [.startTimer(.hold, seconds: Int(session.holdTime))] : []
            actions.append(.established(session))
            return actions
        default:
            return common(event, unexpected: .unexpectedMessageInOpenConfirm)
        }
    }

    private mutating func established(_ event: SessionEvent) -> [SessionAction] {
        switch event {
        case .messageReceived(.keepalive):
            return restartHold()
        case .messageReceived(.update(let update)):
            return restartHold() + [.deliver(update)]
        case .messageReceived(.routeRefresh(let rr)):
            // RFC 2918 4: ignore a refresh for a family that was not negotiated.
            guard negotiated?.families.contains(rr.family) == true else { return restartHold() }
            return restartHold() + [.routeRefreshRequested(rr.family)]
        default:
            return common(event, unexpected: .unexpectedMessageInEstablished)
        }
    }

    /// Events handled the same way in OpenSent, OpenConfirm and Established.
    private mutating func common(_ event: SessionEvent, unexpected: FSMErrorSubcode) -> [SessionAction] {
        switch event {
        case .manualStart, .automaticStart, .manualStartPassive:
            return []
        case .manualStop(let n):
            let notification = n ?? Self.adminShutdown
            connectRetryCounter = 0
            return toIdle(.manualStop(notification), sending: notification, automaticRestart: false)
        case .automaticStop(let n):
            connectRetryCounter += 1
            return toIdle(.notificationSent(n), sending: n)
        case .timerExpired(.hold):
            connectRetryCounter += 1
            return toIdle(.holdTimerExpired, sending: NotificationMessage(.holdTimerExpired))
        case .timerExpired(.keepalive):
            guard let session = negotiated, session.keepaliveTime > 0 else { return [] }
            return [.send(.keepalive), .startTimer(.keepalive, seconds: Int(session.keepaliveTime))]
        case .tcpConnectionFails:
            connectRetryCounter += 1
            return toIdle(.connectionFailed, sending: nil)
        case .messageReceived(.notification(let n)):
            connectRetryCounter += 1
            return toIdle(.notificationReceived(n), sending: nil)
        case .decodeError(let n):
            return failure(n)
        case .openCollisionDump:
            connectRetryCounter += 1
            // Only a restarted graceful-restart peer displaces an Established session; its old
            // connection is dead, so it is closed without a NOTIFICATION (RFC 4724 4.2).
            let cease = state == .established ? nil : NotificationMessage(.cease(.connectionCollisionResolution))
            return toIdle(.collision, sending: cease)
        case .timerExpired(.connectRetry), .timerExpired(.idleHold), .tcpConnected:
            return [] // stale timer or a second connection: the driver's collision logic owns it.
        case .messageReceived:
            return failure(NotificationMessage(.finiteStateMachine(unexpected)))
        }
    }

    // MARK: helpers

    static let adminShutdown = NotificationMessage(.cease(.administrativeShutdown))

    private func holdAndKeepaliveTimers(_ session: NegotiatedSession) -> [SessionAction] {
        // RFC 4271 4.4: a hold time of zero means neither timer runs.
        guard session.holdTime > 0 else { return [.stopTimer(.hold), .stopTimer(.keepalive)] }
        return [.startTimer(.hold, seconds: Int(session.holdTime)),
                .startTimer(.keepalive, seconds: Int(session.keepaliveTime))]
    }

    private func restartHold() -> [SessionAction] {
        guard let hold = negotiated?.holdTime, hold > 0 else { return [] }
        return [.startTimer(.hold, seconds: Int(hold))]
    }

    /// We detected a peer error: send its NOTIFICATION and go to Idle.
    private mutating func failure(_ n: NotificationMessage) -> [SessionAction] {
        connectRetryCounter += 1
        return toIdle(.notificationSent(n), sending: n)
    }

    private mutating func toIdle(_ reason: SessionDownReason, sending: NotificationMessage?,
                                 automaticRestart: Bool = true) -> [SessionAction] {
        let wasEstablished = state == .established
        var actions: [SessionAction] = []
        if let sending { actions.append(.send(.notification(sending))) }
        actions.append(.closeConnection)
        actions += SessionTimer.allCases.filter { $0 != .idleHold }.map { .stopTimer($0) }
        if wasEstablished { actions.append(.down(reason)) }
        if automaticRestart, let idle = config.idleHoldSeconds {
            actions.append(.startTimer(.idleHold, seconds: idle))
        }
        state = .idle
        lastDownReason = reason
        negotiated = wasEstablished ? negotiated : nil
        connectionOrigin = nil
        return actions
    }
}
