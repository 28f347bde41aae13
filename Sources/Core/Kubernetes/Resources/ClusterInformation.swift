/// crd.projectcalico.org/v1 ClusterInformation (the one object named `default`): cluster GUID,
/// type and whether the datastore is ready for calico-node to use.
public typealias ClusterInformation = SpecResource<ClusterInformationKind, ClusterInformationSpec>

public struct ClusterInformationSpec: Codable, Sendable, Hashable {
    public var clusterGUID: String?
    /// Comma-separated, e.g. `k8s,bgp,kubeadm,kdd`.
    public var clusterType: String?
    public var calicoVersion: String?
    /// Absent counts as ready; false makes calico-node wait.
    public var datastoreReady: Bool?
    public var variant: String?

    public init(clusterGUID: String? = nil, clusterType: String? = nil, calicoVersion: String? = nil,
                datastoreReady: Bool? = nil, variant: String? = nil) {
        self.clusterGUID = clusterGUID
        self.clusterType = clusterType
        self.calicoVersion = calicoVersion
        self.datastoreReady = datastoreReady
        self.variant = variant
    }
}
