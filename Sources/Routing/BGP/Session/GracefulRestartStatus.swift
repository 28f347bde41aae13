/// One peer's RFC 4724 state as an operator (or a test) sees it.
public struct GracefulRestartStatus: Hashable, Sendable {
    /// Our capability as offered in the OPEN; nil when we do not advertise graceful restart.
    public var local: GracefulRestartCapability?
    /// The peer's capability on the current (or last Established) session; nil when it was not
    /// negotiated (both sides must advertise it). Its `restarting` is the peer's R bit: it came back from a restart.
    public var peer: GracefulRestartCapability?
    /// Families whose routes from this peer are kept, marked stale, until End-of-RIB or a timer.
    public var staleFamilies: Set<AddressFamily>
    /// Families of the re-established session still waiting for the peer's End-of-RIB.
    public var awaitingEndOfRIB: Set<AddressFamily>
    /// Families whose End-of-RIB arrived on the current session.
    public var endOfRIBReceived: Set<AddressFamily>
    /// The restart timer (peer down) or stale-path timer (waiting for End-of-RIB) is running.
    public var timerRunning: Bool

    public init(local: GracefulRestartCapability?, state: GracefulRestartState, timerRunning: Bool) {
        self.local = local
        peer = state.peerCapability
        staleFamilies = state.staleFamilies
        awaitingEndOfRIB = state.awaitingEndOfRIB
        endOfRIBReceived = state.endOfRIBReceived
        self.timerRunning = timerRunning
    }
}
