/// RFC 4724 receiving-speaker bookkeeping for one peer: which families' routes are stale and
/// what the RIB must do when the session goes down, comes back, or the timers run out.
public struct GracefulRestartState: Hashable, Sendable {
    public enum Action: Hashable, Sendable {
        /// Keep the peer's routes of these families, marked stale, and start the restart timer.
        case retainStale([AddressFamily], restartSeconds: Int)
        /// Delete the peer's routes of these families now (normal session-down behaviour).
        case purge([AddressFamily])
        /// Delete the routes of this family that are still marked stale.
        case purgeStale(AddressFamily)
        /// Start the timer that bounds how long stale routes wait for End-of-RIB after re-establishment.
        case startStalePathTimer(seconds: Int)
        case stopRestartTimer
    }

    public private(set) var staleFamilies: Set<AddressFamily> = []
    /// Families still waiting for the restarted peer's End-of-RIB.
    public private(set) var awaitingEndOfRIB: Set<AddressFamily> = []
    /// The peer's capability on the last Established session (kept while it is down).
    public private(set) var peerCapability: GracefulRestartCapability?
    /// Families whose End-of-RIB arrived on the current session (reset when it comes up).
    public private(set) var endOfRIBReceived: Set<AddressFamily> = []
    /// How long to wait for End-of-RIB once the peer is back (RFC 4724 4.2 "selection deferral").
    public var stalePathSeconds: Int

    public init(stalePathSeconds: Int = 360) { self.stalePathSeconds = stalePathSeconds }

    /// The session that carried `families` ended.
    public mutating func sessionDown(_ reason: SessionDownReason, session: NegotiatedSession) -> [Action] {
        let families = session.families
        guard let gr = session.peerGracefulRestart,
              reason.allowsGracefulRestart(notificationBit: gr.notification) else {
            let all = Array(Set(families).union(staleFamilies)).sorted { $0.description < $1.description }
            staleFamilies = []
            awaitingEndOfRIB = []
            return all.isEmpty ? [] : [.purge(all)]
        }
        let covered = Set(gr.families.map(\.family))
        let keep = families.filter { covered.contains($0) }
        let drop = families.filter { !covered.contains($0) }
        staleFamilies.formUnion(keep)
        awaitingEndOfRIB = []
        var actions: [Action] = drop.isEmpty ? [] : [.purge(drop)]
        if !keep.isEmpty { actions.append(.retainStale(keep, restartSeconds: Int(gr.restartTime))) }
        return actions
    }

    /// The peer came back: families it no longer preserves (F bit clear, or absent) lose their
    /// stale routes now; the rest wait for End-of-RIB.
    public mutating func sessionEstablished(_ session: NegotiatedSession) -> [Action] {
        endOfRIBReceived = []
        peerCapability = session.peerGracefulRestart
        guard !staleFamilies.isEmpty else { return [] }
        var actions: [Action] = [.stopRestartTimer]
        let preserved = Set(session.peerGracefulRestart?.families.filter(\.forwardingPreserved).map(\.family) ?? [])
        for family in staleFamilies.sorted(by: { $0.description < $1.description }) where !preserved.contains(family) || !session.families.contains(family) {
            staleFamilies.remove(family)
            actions.append(.purgeStale(family))
        }
        awaitingEndOfRIB = staleFamilies
        if !staleFamilies.isEmpty { actions.append(.startStalePathTimer(seconds: stalePathSeconds)) }
        return actions
    }

    /// End-of-RIB from the peer: what it did not re-announce is gone.
    public mutating func endOfRIB(_ family: AddressFamily) -> [Action] {
        awaitingEndOfRIB.remove(family)
        endOfRIBReceived.insert(family)
        guard staleFamilies.remove(family) != nil else { return [] }
        // The last awaited End-of-RIB ends the stale-path timer: nothing is left for it to purge.
        return staleFamilies.isEmpty ? [.purgeStale(family), .stopRestartTimer] : [.purgeStale(family)]
    }

    /// The restart timer (peer did not come back) or stale-path timer (no End-of-RIB) expired.
    public mutating func timerExpired() -> [Action] {
        let all = staleFamilies.sorted { $0.description < $1.description }
        staleFamilies = []
        awaitingEndOfRIB = []
        return all.map { .purgeStale($0) }
    }
}
