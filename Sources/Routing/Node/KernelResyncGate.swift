import Foundation

/// When the role may remove the kernel routes of ours that the new speaker did not re-learn
/// (left from before a restart): once every configured peer is Established and has sent its
/// End-of-RIB for each family we both do graceful restart for (RFC 4724 4.1: the restarting
/// speaker defers its route selection until then), or when `limit` has passed since start.
/// A peer that does not do graceful restart may send no End-of-RIB: for it, being Established
/// for `settleSeconds` counts instead.
public struct KernelResyncGate: Sendable {
    public var limit: Double
    public var settleSeconds: Double

    public init(limit: Double, settleSeconds: Double = 3) {
        self.limit = limit
        self.settleSeconds = settleSeconds
    }

    /// `peers`: each configured peer's status and graceful restart view; `configured`: how many
    /// peers the role applied; `elapsed`: seconds since the speaker started.
    public func ready(peers: [(status: BGPPeerStatus, graceful: GracefulRestartStatus?)], configured: Int,
                      elapsed: Double, now: Date = Date()) -> Bool {
        if elapsed >= limit { return true }
        guard configured > 0, peers.count == configured else { return false }
        return peers.allSatisfy { p in
            guard p.status.state == .established else { return false }
            guard let gr = p.graceful, let theirs = gr.peer, let ours = gr.local else {
                return now.timeIntervalSince(p.status.since) >= settleSeconds
            }
            let families = Set(theirs.families.map(\.family)).intersection(ours.families.map(\.family))
            guard !families.isEmpty else { return now.timeIntervalSince(p.status.since) >= settleSeconds }
            return families.isSubset(of: gr.endOfRIBReceived)
        }
    }
}
