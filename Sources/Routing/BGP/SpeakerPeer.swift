import Foundation
import NIOCore

/// One configured peer's live state inside the speaker (event-loop confined).
final class SpeakerPeer {
    var config: BGPPeerConfig
    var fsm: SessionFSM
    /// The connection the state machine drives.
    var active: BGPConnection?
    /// A second connection that arrived meanwhile, kept until its OPEN settles the collision.
    var secondary: BGPConnection?
    var timers: [SessionTimer: Scheduled<Void>] = [:]
    var graceful = GracefulRestartState()
    var gracefulTimer: Scheduled<Void>?
    /// Outbound connects in flight (they block off the loop).
    let connects = PendingConnects()
    var since = Date()
    var lastError: String?
    var updatesReceived = 0
    /// Stopped by the operator (removal or shutdown): no automatic restarts.
    var stopped = false

    init(config: BGPPeerConfig, session: SessionConfig) {
        self.config = config
        self.fsm = SessionFSM(config: session)
    }

    var address: IPAddress { config.address }

    /// Cancels everything scheduled for this stopped peer: its timers, and its connects in
    /// flight, which would otherwise reach the event loop after the speaker shut it down.
    func cancelTimers() {
        connects.close()
        timers.values.forEach { $0.cancel() }
        timers = [:]
        gracefulTimer?.cancel()
        gracefulTimer = nil
    }
}

extension SessionDownReason {
    /// A one-line reason for status displays.
    var summary: String {
        switch self {
        case .manualStop(let n): return "stopped: \(n)"
        case .holdTimerExpired: return "hold timer expired"
        case .notificationSent(let n): return "sent \(n)"
        case .notificationReceived(let n): return "received \(n)"
        case .connectionFailed: return "connection failed or closed"
        case .collision: return "connection collision"
        }
    }
}
