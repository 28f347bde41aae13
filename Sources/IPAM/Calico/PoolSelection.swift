import Core

/// A pool IPAM may allocate from, with its defaults applied.
public struct UsablePool: Sendable, Hashable {
    public var name: String
    public var cidr: IPNet
    public var blockSize: Int

    public init(name: String, cidr: IPNet, blockSize: Int) {
        self.name = name
        self.cidr = cidr
        self.blockSize = blockSize
    }

    public static func defaultBlockSize(ipv6: Bool) -> Int { ipv6 ? 122 : 26 }
}

/// Which pools one allocation may use (pure). Explicitly requested pools (by name or CIDR)
/// must exist and be enabled, and are used even when their nodeSelector does not select the
/// node, as Calico does; otherwise every enabled pool whose nodeSelector selects the node.
public enum PoolSelection {
    public static func usable(_ pools: [IPPool], ipv6: Bool, requested: [String], field: String,
                              nodeLabels: [String: String]) throws(IPAMError) -> [UsablePool] {
        let family = pools.compactMap { pool -> (IPPool, IPNet)? in
            guard let net = IPNet(parsing: pool.spec.cidr), net.isIPv6 == ipv6 else { return nil }
            return (pool, net)
        }.sorted { $0.0.metadata.name < $1.0.metadata.name }

        if !requested.isEmpty {
            var out: [UsablePool] = []
            for want in requested {
                let wantNet = IPNet(parsing: want)
                guard let (pool, net) = family.first(where: { $0.0.metadata.name == want || (wantNet != nil && $0.1 == wantNet) }) else {
                    throw .requestedPoolUnusable(field: field, pool: want, reason: "does not exist (no IPv\(ipv6 ? 6 : 4) IPPool has that name or CIDR)")
                }
                guard pool.spec.disabled != true else {
                    throw .requestedPoolUnusable(field: field, pool: want, reason: "is disabled")
                }
                let p = try usablePool(pool, net)
                if !out.contains(p) { out.append(p) }
            }
            return out
        }

        var out: [UsablePool] = []
        for (pool, net) in family where pool.spec.disabled != true {
            guard try selects(pool, nodeLabels) else { continue }
            out.append(try usablePool(pool, net))
        }
        return out
    }

    /// Whether any pool's nodeSelector needs the node's labels (so the Node must be read).
    public static func needsNodeLabels(_ pools: [IPPool]) -> Bool {
        pools.contains { p in
            let s = (p.spec.nodeSelector ?? "").trimmingCharacters(in: .whitespaces)
            return !(s.isEmpty || s == "all()")
        }
    }

    static func selects(_ pool: IPPool, _ labels: [String: String]) throws(IPAMError) -> Bool {
        let text = pool.spec.nodeSelector ?? ""
        do {
            return try SelectorExpr.parse(text).matches(labels: labels)
        } catch {
            throw .invalidConfig(field: "IPPool \(pool.metadata.name) spec.nodeSelector", problem: "\"\(text)\" is not a valid selector: \(error)")
        }
    }

    static func usablePool(_ pool: IPPool, _ net: IPNet) throws(IPAMError) -> UsablePool {
        let size = pool.spec.blockSize ?? UsablePool.defaultBlockSize(ipv6: net.isIPv6)
        let maxBits = net.bytes.count * 8
        guard size >= net.prefixLength, size <= maxBits, maxBits - size <= 16 else {
            throw .invalidConfig(field: "IPPool \(pool.metadata.name) spec.blockSize",
                                 problem: "\(size) does not fit pool \(net) (must be between /\(net.prefixLength) and /\(maxBits), at most 65536 addresses per block)")
        }
        return UsablePool(name: pool.metadata.name, cidr: net, blockSize: size)
    }
}
