/// One kind of Kubernetes object as the REST API addresses it.
public struct ResourceKind: Sendable, Hashable, CustomStringConvertible {
    /// API group; empty for the core group (`/api/v1`).
    public var group: String
    public var version: String
    public var kind: String
    /// The lower-case plural used in paths (`networkpolicies`).
    public var plural: String
    public var namespaced: Bool
    /// Short names kubectl accepts (`no`, `po`, `ns`).
    public var shortNames: [String]

    public init(group: String, version: String, kind: String, plural: String, namespaced: Bool, shortNames: [String] = []) {
        self.group = group
        self.version = version
        self.kind = kind
        self.plural = plural
        self.namespaced = namespaced
        self.shortNames = shortNames
    }

    /// `v1` or `GROUP/VERSION`, as in an object's apiVersion field.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    public var singular: String { kind.lowercased() }
    public var description: String { "\(plural).\(group.isEmpty ? "core" : group)" }

    /// `/api/v1` or `/apis/GROUP/VERSION`.
    public var groupVersionPath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// The collection path, or an object's path when `name` is given. A namespaced kind with no
    /// namespace addresses all namespaces (list and watch only).
    public func path(namespace: String? = nil, name: String? = nil) -> String {
        var p = groupVersionPath
        if namespaced, let namespace { p += "/namespaces/\(namespace)" }
        p += "/\(plural)"
        if let name { p += "/\(name)" }
        return p
    }
}

extension ResourceKind {
    public static let calicoGroup = "crd.projectcalico.org"

    public static let pod = ResourceKind(group: "", version: "v1", kind: "Pod", plural: "pods", namespaced: true, shortNames: ["po"])
    public static let namespace = ResourceKind(group: "", version: "v1", kind: "Namespace", plural: "namespaces", namespaced: false, shortNames: ["ns"])
    public static let node = ResourceKind(group: "", version: "v1", kind: "Node", plural: "nodes", namespaced: false, shortNames: ["no"])
    public static let serviceAccount = ResourceKind(group: "", version: "v1", kind: "ServiceAccount", plural: "serviceaccounts", namespaced: true, shortNames: ["sa"])
    public static let secret = ResourceKind(group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true)
    public static let k8sNetworkPolicy = ResourceKind(group: "networking.k8s.io", version: "v1", kind: "NetworkPolicy", plural: "networkpolicies", namespaced: true, shortNames: ["netpol"])

    public static let bgpConfiguration = calico("BGPConfiguration", "bgpconfigurations", namespaced: false)
    public static let bgpPeer = calico("BGPPeer", "bgppeers", namespaced: false)
    public static let ipPool = calico("IPPool", "ippools", namespaced: false)
    public static let felixConfiguration = calico("FelixConfiguration", "felixconfigurations", namespaced: false)
    public static let calicoNetworkPolicy = calico("NetworkPolicy", "networkpolicies", namespaced: true)
    public static let globalNetworkPolicy = calico("GlobalNetworkPolicy", "globalnetworkpolicies", namespaced: false)
    public static let networkSet = calico("NetworkSet", "networksets", namespaced: true)
    public static let globalNetworkSet = calico("GlobalNetworkSet", "globalnetworksets", namespaced: false)
    public static let hostEndpoint = calico("HostEndpoint", "hostendpoints", namespaced: false)
    public static let ipamBlock = calico("IPAMBlock", "ipamblocks", namespaced: false)
    public static let blockAffinity = calico("BlockAffinity", "blockaffinities", namespaced: false)
    public static let ipamHandle = calico("IPAMHandle", "ipamhandles", namespaced: false)
    public static let clusterInformation = calico("ClusterInformation", "clusterinformations", namespaced: false)

    private static func calico(_ kind: String, _ plural: String, namespaced: Bool) -> ResourceKind {
        ResourceKind(group: calicoGroup, version: "v1", kind: kind, plural: plural, namespaced: namespaced)
    }

    /// Every kind calico-node reads or writes; the development API server serves exactly these.
    public static let all: [ResourceKind] = [
        .pod, .namespace, .node, .serviceAccount, .secret, .k8sNetworkPolicy,
        .bgpConfiguration, .bgpPeer, .ipPool, .felixConfiguration, .calicoNetworkPolicy,
        .globalNetworkPolicy, .networkSet, .globalNetworkSet, .hostEndpoint, .ipamBlock,
        .blockAffinity, .ipamHandle, .clusterInformation,
    ]
}
