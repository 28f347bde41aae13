/// Why Calico IPAM could not do what was asked. `cniCode` is the CNI error code the plugin
/// answers with (7 for configuration the operator must fix, 11 for a state that may clear by
/// itself, e.g. addresses being released, 101 for the datastore).
public enum IPAMError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A field of the `ipam` section is malformed.
    case invalidConfig(field: String, problem: String)
    /// A pool named in ipv4_pools / ipv6_pools does not exist or is disabled.
    case requestedPoolUnusable(field: String, pool: String, reason: String)
    /// No enabled pool of this IP version selects the node.
    case noPool(ipVersion: Int, node: String)
    /// Every block of every usable pool is full.
    case exhausted(ipVersion: Int, pools: [String])
    /// A specifically requested address (CNI_ARGS IP=) lies in no IPPool.
    case addressNotInPool(address: String)
    /// A specifically requested address (CNI_ARGS IP=) is taken.
    case addressUnavailable(address: String, reason: String)
    /// Writes kept conflicting with other writers beyond the retry budget.
    case tooMuchContention(what: String, attempts: Int)
    /// The datastore refused or failed a request.
    case datastore(operation: String, detail: String)
    /// The host-wide lock file could not be opened or locked.
    case lockFailed(path: String, reason: String)

    public var cniCode: Int {
        switch self {
        case .invalidConfig, .requestedPoolUnusable, .noPool, .addressNotInPool: return 7
        case .exhausted, .tooMuchContention, .lockFailed, .addressUnavailable: return 11
        case .datastore: return 101
        }
    }

    public var description: String {
        switch self {
        case .invalidConfig(let field, let problem):
            return "invalid IPAM config: \(field) \(problem)"
        case .requestedPoolUnusable(let field, let pool, let reason):
            return "invalid IPAM config: \(field) names pool \"\(pool)\", which \(reason)"
        case .noPool(let v, let node):
            return "no enabled IPv\(v) IPPool selects node \"\(node)\": create an IPPool (or fix its nodeSelector/disabled), or set assign_ipv\(v) to false"
        case .exhausted(let v, let pools):
            return "IPv\(v) pool\(pools.count == 1 ? "" : "s") \(pools.joined(separator: ", ")) exhausted: no free address in any block; release addresses or add a pool"
        case .addressNotInPool(let address):
            return "requested address \(address) (CNI_ARGS IP) is not in any IPPool: create a pool that contains it"
        case .addressUnavailable(let address, let reason):
            return "requested address \(address) (CNI_ARGS IP) \(reason)"
        case .tooMuchContention(let what, let attempts):
            return "gave up on \(what) after \(attempts) conflicting writes; try again"
        case .datastore(let op, let detail):
            return "datastore error during \(op): \(detail)"
        case .lockFailed(let path, let reason):
            return "cannot lock \(path): \(reason) (set CALICO_IPAM_LOCK_FILE to a writable path)"
        }
    }
}
