/// crd.projectcalico.org/v1 IPPool: a CIDR that Calico IPAM allocates pod addresses from.
public typealias IPPool = SpecResource<IPPoolKind, IPPoolSpec>

public struct IPPoolSpec: Codable, Sendable, Hashable {
    public var cidr: String
    /// `Never` (default), `Always` or `CrossSubnet`.
    public var vxlanMode: String?
    /// `Never` (default), `Always` or `CrossSubnet`.
    public var ipipMode: String?
    public var natOutgoing: Bool?
    public var disabled: Bool?
    public var disableBGPExport: Bool?
    /// Prefix length of the blocks carved from the pool; 26 (IPv4) or 122 (IPv6) by default.
    public var blockSize: Int?
    /// Nodes that may allocate from the pool; all() by default.
    public var nodeSelector: String?
    /// `Workload`, `Tunnel`, `LoadBalancer`; Workload and Tunnel by default.
    public var allowedUses: [String]?
    /// `Automatic` (default) or `Manual`.
    public var assignmentMode: String?

    public init(cidr: String, vxlanMode: String? = nil, ipipMode: String? = nil, natOutgoing: Bool? = nil,
                disabled: Bool? = nil, disableBGPExport: Bool? = nil, blockSize: Int? = nil,
                nodeSelector: String? = nil, allowedUses: [String]? = nil, assignmentMode: String? = nil) {
        self.cidr = cidr
        self.vxlanMode = vxlanMode
        self.ipipMode = ipipMode
        self.natOutgoing = natOutgoing
        self.disabled = disabled
        self.disableBGPExport = disableBGPExport
        self.blockSize = blockSize
        self.nodeSelector = nodeSelector
        self.allowedUses = allowedUses
        self.assignmentMode = assignmentMode
    }
}
