import Core
import IPAM

/// Where `usePodCidr` gets this Node's pod CIDRs: the on-disk cache when it has them (then
/// `confirm` reads the Node in parallel with the IPAM call), else the Node, whose answer is
/// then cached.
struct PodCIDRLookup: Sendable {
    let cache: PodCIDRCache
    let store: PluginDatastore
    let node: String

    struct Found: Sendable {
        var cidrs: [String]
        /// Served from the cache, so not yet confirmed against the Node.
        var cached: Bool
    }

    func cidrs() async throws -> Found {
        if let cached = cache.read(server: store.clusterKey(), node: node) { return Found(cidrs: cached, cached: true) }
        return Found(cidrs: try await refresh(), cached: false)
    }

    /// Reads the Node and caches its pod CIDRs.
    func refresh() async throws -> [String] {
        let fresh = try await readNode()
        cache.write(fresh, server: store.clusterKey(), node: node)
        return fresh
    }

    /// Reads the Node; nil when `used` is still its pod CIDRs, else the Node's (now cached).
    func confirm(_ used: [String]) async throws -> [String]? {
        let fresh = try await readNode()
        guard fresh != used else { return nil }
        cache.write(fresh, server: store.clusterKey(), node: node)
        return fresh
    }

    private func readNode() async throws -> [String] {
        K8sNode.podCIDRs(fromJSON: try await store.api().getJSON(K8sNode.self, name: node, namespace: nil))
    }
}
