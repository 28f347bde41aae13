/// Namespaces, service accounts and network sets as Calico's Kubernetes datastore presents them.
extension Profile {
    public static let namespaceNameLabel = "projectcalico.org/name"

    /// `kns.<ns>`: allows in and out; offers the namespace's labels as `pcns.<key>` and its name
    /// as `pcns.projectcalico.org/name`.
    public init(namespace: Namespace) {
        var labels: [String: String] = [:]
        for (key, value) in namespace.metadata.labels ?? [:] { labels[SelectorLabelPrefix.namespace + key] = value }
        labels[SelectorLabelPrefix.namespace + Self.namespaceNameLabel] = namespace.metadata.name
        self.init(name: "kns.\(namespace.metadata.name)", labels: labels,
                  ingress: [PolicyRule(action: .allow)], egress: [PolicyRule(action: .allow)])
    }

    /// `ksa.<ns>.<sa>`: no rules; offers the account's labels as `pcsa.<key>` and its name as
    /// `pcsa.projectcalico.org/name`.
    public init(serviceAccount: ServiceAccount) {
        let namespace = serviceAccount.metadata.namespace ?? "default"
        var labels: [String: String] = [:]
        for (key, value) in serviceAccount.metadata.labels ?? [:] { labels[SelectorLabelPrefix.serviceAccount + key] = value }
        labels[SelectorLabelPrefix.serviceAccount + Self.namespaceNameLabel] = serviceAccount.metadata.name
        self.init(name: "ksa.\(namespace).\(serviceAccount.metadata.name)", labels: labels)
    }
}

extension NetworkSetEntry {
    /// A namespaced NetworkSet; unparsable nets are skipped.
    public init(networkSet: NetworkSet) {
        let namespace = networkSet.metadata.namespace ?? "default"
        var labels = networkSet.metadata.labels ?? [:]
        labels[WorkloadEndpoint.namespaceLabel] = namespace
        self.init(key: "\(namespace)/\(networkSet.metadata.name)", namespace: namespace, labels: labels,
                  profiles: ["kns.\(namespace)"], nets: (networkSet.spec.nets ?? []).compactMap(IPNet.init(parsing:)))
    }

    /// A GlobalNetworkSet; unparsable nets are skipped.
    public init(globalNetworkSet: GlobalNetworkSet) {
        self.init(key: globalNetworkSet.metadata.name, namespace: nil, labels: globalNetworkSet.metadata.labels ?? [:],
                  profiles: [], nets: (globalNetworkSet.spec.nets ?? []).compactMap(IPNet.init(parsing:)))
    }
}
