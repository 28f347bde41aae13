import Core

/// The prefixes this node originates (pure): its affine IPAM blocks under Calico IPAM, or, when
/// it has none, its Node's pod CIDRs (host-local IPAM with usePodCidr).
public enum OwnPrefixes {
    public static func compute(nodeName: String, blocks: [IPAMBlock], podCIDRs: [IPPrefix]) -> Set<IPPrefix> {
        let affinity = "host:\(nodeName)"
        let mine = blocks.filter { $0.spec.affinity == affinity && $0.spec.deleted != true }.compactMap { IPPrefix($0.spec.cidr) }
        return Set(mine.isEmpty ? podCIDRs : mine)
    }
}
