import Core
import Prometheus

/// The role's Prometheus metrics: sessions by state, prefixes received and advertised per peer,
/// UPDATE messages processed, and routes in the kernel.
final class BGPRoleMetrics: @unchecked Sendable {
    private let registry: PrometheusCollectorRegistry
    private var perPeer: [IPAddress: (received: Gauge, advertised: Gauge)] = [:]
    private var lastUpdates: [IPAddress: Int] = [:]
    private let updates: Counter
    private let kernelRoutes: Gauge
    private let sessions: [SessionState: Gauge]

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        updates = registry.makeCounter(name: "calico_bgp_updates_processed_total",
                                       help: "BGP UPDATE messages received and processed")
        kernelRoutes = registry.makeGauge(name: "calico_bgp_kernel_routes", help: "Routes the BGP role holds in the kernel (protocol 80)")
        var s: [SessionState: Gauge] = [:]
        for state in SessionState.allCases {
            s[state] = registry.makeGauge(name: "calico_bgp_sessions", labels: [("state", state.rawValue)],
                                          help: "BGP sessions by RFC 4271 state")
        }
        sessions = s
    }

    /// Called from the role's actor only.
    func update(_ statuses: [BGPPeerStatus], kernelRouteCount: Int?) {
        for state in SessionState.allCases {
            sessions[state]?.set(Double(statuses.filter { $0.state == state }.count))
        }
        var seen: Set<IPAddress> = []
        for s in statuses {
            seen.insert(s.address)
            let g = perPeer[s.address] ?? {
                let labels = [("peer", s.address.description)]
                let made = (registry.makeGauge(name: "calico_bgp_prefixes_received", labels: labels, help: "Prefixes received from the peer"),
                            registry.makeGauge(name: "calico_bgp_prefixes_advertised", labels: labels, help: "Prefixes advertised to the peer"))
                perPeer[s.address] = made
                return made
            }()
            g.received.set(Double(s.prefixesReceived))
            g.advertised.set(Double(s.prefixesAdvertised))
            let delta = s.updatesReceived - (lastUpdates[s.address] ?? 0)
            if delta > 0 { updates.increment(by: Int64(delta)) }
            lastUpdates[s.address] = s.updatesReceived
        }
        for (address, g) in perPeer where !seen.contains(address) {
            registry.unregisterGauge(g.received)
            registry.unregisterGauge(g.advertised)
            perPeer[address] = nil
            lastUpdates[address] = nil
        }
        if let kernelRouteCount { kernelRoutes.set(Double(kernelRouteCount)) }
    }
}
