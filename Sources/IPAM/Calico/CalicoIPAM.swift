import Core
import Foundation

/// One allocation request: who gets the addresses and from which pools.
public struct AssignRequest: Sendable, Hashable {
    public var handleID: String
    public var node: String
    /// Recorded with each address (`namespace`, `pod`, `node`, `timestamp`).
    public var attributes: [String: String]
    public var settings: CalicoIPAMSettings
    /// Specific addresses (CNI_ARGS `IP=`); when set, exactly these are assigned.
    public var requestedIPs: [IPNet]

    public init(handleID: String, node: String, attributes: [String: String], settings: CalicoIPAMSettings,
                requestedIPs: [IPNet] = []) {
        self.handleID = handleID
        self.node = node
        self.attributes = attributes
        self.settings = settings
        self.requestedIPs = requestedIPs
    }
}

/// Calico IPAM on the Kubernetes datastore. Every write is a create (an atomic claim) or an
/// update carrying the resourceVersion it was computed from; a conflict means someone else
/// wrote first, so the object is read again and the step redone. Two allocators therefore
/// never hand out one address, whatever the interleaving.
public struct CalicoIPAM: Sendable {
    public let api: any KubeAPI
    /// Conflicting writes tolerated per step before giving up with `tooMuchContention`.
    public var maxAttempts: Int
    let now: @Sendable () -> Date

    public init(api: any KubeAPI, maxAttempts: Int = 50, now: @escaping @Sendable () -> Date = { Date() }) {
        self.api = api
        self.maxAttempts = maxAttempts
        self.now = now
    }

    /// Assigns one address per requested IP version, or returns the addresses the handle
    /// already holds (a repeated ADD for the same container). On failure, whatever was taken
    /// for this request is released again.
    public func assign(_ request: AssignRequest) async throws -> [IPNet] {
        // The three first reads are independent, so they share one round trip's wait. The
        // blocks read here are only a first guess: every write carries a resourceVersion.
        async let heldRead = addresses(handle: request.handleID)
        async let poolsRead = call("list IPPools") { try await api.list(IPPool.self).items }
        async let blocksRead = call("list IPAMBlocks") { try await api.list(IPAMBlock.self).items }
        let held = try await heldRead
        if !held.isEmpty { return held }

        let pools = try await poolsRead
        if !request.requestedIPs.isEmpty { return try await assignRequested(request, pools: pools) }
        let firstBlocks = try await blocksRead
        var labels: [String: String] = [:]
        if PoolSelection.needsNodeLabels(pools) {
            labels = try await nodeLabels(request.node)
        }
        var families: [(ipv6: Bool, pools: [UsablePool])] = []
        for (ipv6, wanted, requested) in [(false, request.settings.assignIPv4, request.settings.ipv4Pools),
                                          (true, request.settings.assignIPv6, request.settings.ipv6Pools)] where wanted {
            let field = ipv6 ? "ipam.ipv6_pools" : "ipam.ipv4_pools"
            let usable = try PoolSelection.usable(pools, ipv6: ipv6, requested: requested, field: field, nodeLabels: labels)
            guard !usable.isEmpty else { throw IPAMError.noPool(ipVersion: ipv6 ? 6 : 4, node: request.node) }
            families.append((ipv6, usable))
        }

        var out: [IPNet] = []
        do {
            for family in families {
                out.append(try await assignOne(request, pools: family.pools, ipv6: family.ipv6, blocks: firstBlocks))
            }
        } catch {
            if !out.isEmpty { _ = try? await release(handle: request.handleID) }
            throw error
        }
        return out
    }

    private func nodeLabels(_ node: String) async throws -> [String: String] {
        do {
            return try await api.get(K8sNode.self, name: node, namespace: nil).metadata.labels ?? [:]
        } catch KubeError.notFound {
            return [:]
        } catch {
            throw Self.datastore("get Node \(node)", error)
        }
    }

    /// One address from `pools`: the node's affine blocks first, then a newly claimed block,
    /// then (only when no block is left to claim) a free address in another node's block.
    /// `blocks`, when given, stands in for the first attempt's read.
    func assignOne(_ request: AssignRequest, pools: [UsablePool], ipv6: Bool, blocks firstRead: [IPAMBlock]? = nil) async throws -> IPNet {
        let attribute = IPAMBlockSpec.Attribute(handleID: request.handleID, secondary: stamped(request.attributes, node: request.node))
        let mine = IPAMNames.hostAffinity(request.node)
        var prefetched = firstRead
        for _ in 0..<maxAttempts {
            let blocks: [IPAMBlock]
            if let p = prefetched {
                blocks = p
                prefetched = nil
            } else {
                blocks = try await call("list IPAMBlocks") { try await api.list(IPAMBlock.self).items }
            }
            let inPools = blocks.filter { b in
                guard b.spec.deleted != true, let net = IPNet(parsing: b.spec.cidr) else { return false }
                return pools.contains { $0.cidr.contains(net) }
            }.sorted { (IPNet(parsing: $0.spec.cidr)!) < (IPNet(parsing: $1.spec.cidr)!) }

            if let block = inPools.first(where: { $0.spec.affinity == mine && $0.spec.freeCount > 0 }) {
                if let ip = try await allocate(in: block, attribute: attribute) { return ip }
                continue
            }
            let existing = Set(blocks.compactMap { IPNet(parsing: $0.spec.cidr) })
            switch try await claimBlock(pools: pools, existing: existing, node: request.node) {
            case .claimed(let block):
                if let ip = try await allocate(in: block, attribute: attribute) { return ip }
                continue
            case .raced:
                continue
            case .noneLeft:
                break
            }
            if let block = inPools.first(where: { $0.spec.affinity != mine && !$0.spec.strictAffinity && $0.spec.freeCount > 0 }) {
                if let ip = try await allocate(in: block, attribute: attribute) { return ip }
                continue
            }
            throw IPAMError.exhausted(ipVersion: ipv6 ? 6 : 4, pools: pools.map { "\($0.name) (\($0.cidr))" })
        }
        throw IPAMError.tooMuchContention(what: "assigning an IPv\(ipv6 ? 6 : 4) address", attempts: maxAttempts)
    }

    func stamped(_ attrs: [String: String], node: String) -> [String: String] {
        var out = attrs
        out["node"] = node
        out["timestamp"] = IPAMTimestamp.string(from: now())
        return out
    }

    /// Takes the first free address of `block`, recording it in the handle first (so that a
    /// release by handle always finds it), then in the block with its resourceVersion. Nil
    /// when the block filled up under us; the caller looks again.
    func allocate(in block: IPAMBlock, attribute: IPAMBlockSpec.Attribute) async throws -> IPNet? {
        guard let net = IPNet(parsing: block.spec.cidr), let handle = attribute.handleID else { return nil }
        try await adjustHandle(handle, block: net, by: 1)
        do {
            if let ip = try await writeAllocation(in: block, net: net, attribute: attribute) { return ip }
            try await adjustHandle(handle, block: net, by: -1)
            return nil
        } catch {
            // Undo the handle's count; should this fail too, a release by handle still finds it.
            try? await adjustHandle(handle, block: net, by: -1)
            throw error
        }
    }

    private func writeAllocation(in block: IPAMBlock, net: IPNet, attribute: IPAMBlockSpec.Attribute) async throws -> IPNet? {
        var current = block
        for _ in 0..<maxAttempts {
            var updated = current
            guard let ordinal = updated.spec.allocate(1, attribute: attribute).first else { return nil }
            do {
                _ = try await api.update(updated.replacingSpec)
                return IPAMAddressMath.address(in: net, ordinal: ordinal)
            } catch KubeError.conflict {
                current = try await call("get IPAMBlock \(block.metadata.name)") {
                    try await api.get(IPAMBlock.self, name: block.metadata.name, namespace: nil)
                }
                if current.spec.deleted == true { return nil }
            } catch KubeError.notFound {
                return nil
            } catch {
                throw Self.datastore("update IPAMBlock \(block.metadata.name)", error)
            }
        }
        throw IPAMError.tooMuchContention(what: "allocating in block \(net)", attempts: maxAttempts)
    }

    /// Adds `delta` to the handle's count for `block`: creates the handle on first use and
    /// deletes it when it no longer holds anything.
    func adjustHandle(_ handleID: String, block: IPNet, by delta: Int) async throws {
        let key = block.description
        if delta > 0 {
            // Most handles are new: try the create first and save a read.
            let fresh = IPAMHandle(metadata: ObjectMeta(name: handleID),
                                   spec: IPAMHandleSpec(handleID: handleID, block: [key: delta], deleted: false))
            do {
                _ = try await api.create(fresh)
                return
            } catch KubeError.conflict {
            } catch {
                throw Self.datastore("create IPAMHandle \(handleID)", error)
            }
        }
        for _ in 0..<maxAttempts {
            let existing: IPAMHandle?
            do {
                existing = try await api.get(IPAMHandle.self, name: handleID, namespace: nil)
            } catch KubeError.notFound {
                existing = nil
            } catch {
                throw Self.datastore("get IPAMHandle \(handleID)", error)
            }
            do {
                guard var handle = existing else {
                    guard delta > 0 else { return }
                    let fresh = IPAMHandle(metadata: ObjectMeta(name: handleID),
                                           spec: IPAMHandleSpec(handleID: handleID, block: [key: delta], deleted: false))
                    _ = try await api.create(fresh)
                    return
                }
                let count = (handle.spec.block[key] ?? 0) + delta
                handle.spec.block[key] = count > 0 ? count : nil
                if handle.spec.block.isEmpty {
                    try await api.delete(IPAMHandle.self, name: handleID, namespace: nil)
                } else {
                    _ = try await api.update(handle.replacingSpec)
                }
                return
            } catch KubeError.conflict {
                continue
            } catch KubeError.notFound {
                continue
            } catch {
                throw Self.datastore("write IPAMHandle \(handleID)", error)
            }
        }
        throw IPAMError.tooMuchContention(what: "updating IPAMHandle \(handleID)", attempts: maxAttempts)
    }

    /// Runs a datastore call, turning its failure into `IPAMError.datastore`.
    func call<T>(_ operation: String, _ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch { throw Self.datastore(operation, error) }
    }

    static func datastore(_ operation: String, _ error: Error) -> Error {
        // An unreachable API passes through as is: the plugin edge answers "try again later".
        if error is IPAMError || error is CancellationError { return error }
        if case KubeError.transport? = error as? KubeError { return error }
        return IPAMError.datastore(operation: operation, detail: String(describing: error))
    }
}
