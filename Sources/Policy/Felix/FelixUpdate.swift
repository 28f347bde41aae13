import Core

/// One datastore change felix reacts to, as the reflectors deliver them.
public enum FelixUpdate: Sendable {
    case pod(Pod)
    case podDeleted(namespace: String, name: String)
    case namespace(Namespace)
    case namespaceDeleted(name: String)
    case serviceAccount(ServiceAccount)
    case serviceAccountDeleted(namespace: String, name: String)
    case k8sPolicy(K8sNetworkPolicy)
    case k8sPolicyDeleted(namespace: String, name: String)
    case calicoPolicy(CalicoNetworkPolicy)
    case calicoPolicyDeleted(namespace: String, name: String)
    case globalPolicy(GlobalNetworkPolicy)
    case globalPolicyDeleted(name: String)
    case networkSet(NetworkSet)
    case networkSetDeleted(namespace: String, name: String)
    case globalNetworkSet(GlobalNetworkSet)
    case globalNetworkSetDeleted(name: String)
    case felixConfiguration(FelixConfiguration)
    case felixConfigurationDeleted(name: String)
}

extension FelixUpdate {
    /// The update a reflector event stands for (nil for `.synced`).
    static func from<T>(_ event: ReflectorEvent<T>, _ upsert: (T) -> FelixUpdate, _ deleted: (T) -> FelixUpdate) -> FelixUpdate? {
        switch event {
        case .added(let o), .updated(_, let o): return upsert(o)
        case .deleted(let o): return deleted(o)
        case .synced: return nil
        }
    }
}
