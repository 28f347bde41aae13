import Foundation

/// Names a kind at the type level, so one generic struct can serve every kind that is just
/// metadata plus a spec.
public protocol ResourceKindTag: Sendable {
    static var resource: ResourceKind { get }
}

/// A kind whose object is metadata and a spec (every Calico custom resource, the Kubernetes
/// NetworkPolicy). Each such kind is a typealias: `IPPool = SpecResource<IPPoolKind, IPPoolSpec>`.
public struct SpecResource<Kind: ResourceKindTag, Spec: Codable & Sendable & Hashable>: KubeResource, Hashable {
    public static var resource: ResourceKind { Kind.resource }

    public var metadata: ObjectMeta
    public var spec: Spec
    public var raw: JSONValue?

    enum CodingKeys: String, CodingKey { case metadata, spec }

    public init(metadata: ObjectMeta, spec: Spec) {
        self.metadata = metadata
        self.spec = spec
    }

    /// A missing spec decodes as `{}` when the spec type allows it (all fields optional), so that
    /// watch bookmarks, which carry only metadata, decode too.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try c.decode(ObjectMeta.self, forKey: .metadata)
        if let spec = try c.decodeIfPresent(Spec.self, forKey: .spec) {
            self.spec = spec
        } else {
            self.spec = try JSONDecoder().decode(Spec.self, from: Data("{}".utf8))
        }
    }
}

public enum K8sNetworkPolicyKind: ResourceKindTag { public static var resource: ResourceKind { .k8sNetworkPolicy } }
public enum CalicoNetworkPolicyKind: ResourceKindTag { public static var resource: ResourceKind { .calicoNetworkPolicy } }
public enum GlobalNetworkPolicyKind: ResourceKindTag { public static var resource: ResourceKind { .globalNetworkPolicy } }
public enum NetworkSetKind: ResourceKindTag { public static var resource: ResourceKind { .networkSet } }
public enum GlobalNetworkSetKind: ResourceKindTag { public static var resource: ResourceKind { .globalNetworkSet } }
public enum HostEndpointKind: ResourceKindTag { public static var resource: ResourceKind { .hostEndpoint } }
public enum IPPoolKind: ResourceKindTag { public static var resource: ResourceKind { .ipPool } }
public enum BGPConfigurationKind: ResourceKindTag { public static var resource: ResourceKind { .bgpConfiguration } }
public enum BGPPeerKind: ResourceKindTag { public static var resource: ResourceKind { .bgpPeer } }
public enum FelixConfigurationKind: ResourceKindTag { public static var resource: ResourceKind { .felixConfiguration } }
public enum ClusterInformationKind: ResourceKindTag { public static var resource: ResourceKind { .clusterInformation } }
public enum IPAMBlockKind: ResourceKindTag { public static var resource: ResourceKind { .ipamBlock } }
public enum BlockAffinityKind: ResourceKindTag { public static var resource: ResourceKind { .blockAffinity } }
public enum IPAMHandleKind: ResourceKindTag { public static var resource: ResourceKind { .ipamHandle } }
