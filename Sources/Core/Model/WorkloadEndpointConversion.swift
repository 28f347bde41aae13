/// The Kubernetes datastore's Pod to WorkloadEndpoint conversion.
extension WorkloadEndpoint {
    public static let namespaceLabel = "projectcalico.org/namespace"
    public static let serviceAccountLabel = "projectcalico.org/serviceaccount"
    public static let podIPAnnotation = "cni.projectcalico.org/podIP"
    public static let podIPsAnnotation = "cni.projectcalico.org/podIPs"

    /// The endpoint of a pod, or nil when the pod has none: not scheduled, host-networked,
    /// finished (Succeeded/Failed) or being deleted without addresses.
    public init?(pod: Pod, interfacePrefix: String = "cali") {
        guard let node = pod.spec.nodeName, !node.isEmpty, pod.spec.hostNetwork != true else { return nil }
        if let phase = pod.status?.phase, phase == "Succeeded" || phase == "Failed" { return nil }
        let namespace = pod.metadata.namespace ?? "default"
        let podName = pod.metadata.name

        var labels = pod.metadata.labels ?? [:]
        labels[Self.namespaceLabel] = namespace
        labels[SelectorExpr.orchestratorLabel] = "k8s"
        var profiles = ["kns.\(namespace)"]
        let serviceAccount = pod.spec.serviceAccountName.flatMap { $0.isEmpty ? nil : $0 }
        if let serviceAccount {
            labels[Self.serviceAccountLabel] = serviceAccount
            profiles.append("ksa.\(namespace).\(serviceAccount)")
        }

        self.init(name: Self.endpointName(node: node, pod: podName), namespace: namespace, pod: podName, node: node,
                  interfaceName: Self.hostInterfaceName(namespace: namespace, pod: podName, prefix: interfacePrefix),
                  addresses: Self.addresses(of: pod), labels: labels, profiles: profiles,
                  ports: Self.namedPorts(of: pod), serviceAccount: serviceAccount)
    }

    /// `<node>-k8s-<pod>-eth0` (see CalicoNames).
    public static func endpointName(node: String, pod: String, interface: String = "eth0") -> String {
        CalicoNames.workloadEndpointName(node: node, pod: pod, interface: interface)
    }

    /// The host veth name (see CalicoNames).
    public static func hostInterfaceName(namespace: String, pod: String, prefix: String = CalicoNames.defaultInterfacePrefix) -> String {
        CalicoNames.hostVethName(namespace: namespace, pod: pod, prefix: prefix)
    }

    /// status.podIPs, else status.podIP, else the CNI plugin's annotations; unparsable entries
    /// are skipped. Each as a full-length network.
    static func addresses(of pod: Pod) -> [IPNet] {
        let annotations = pod.metadata.annotations ?? [:]
        let candidates: [[String]] = [
            pod.status?.podIPs?.map(\.ip) ?? [],
            pod.status?.podIP.map { [$0] } ?? [],
            annotations[podIPsAnnotation].map { $0.split(separator: ",").map(String.init) } ?? [],
            annotations[podIPAnnotation].map { [$0] } ?? [],
        ]
        for list in candidates {
            let nets = list.compactMap { text -> IPNet? in
                // Annotations carry CIDRs (10.0.0.5/32); take the address at full length.
                let address = text.trimmingCharacters(in: .whitespaces).split(separator: "/").first.map(String.init) ?? ""
                return IPNet(parsing: address)
            }
            if !nets.isEmpty { return uniqued(nets) }
        }
        return []
    }

    static func namedPorts(of pod: Pod) -> [EndpointPort] {
        var out: [EndpointPort] = []
        for container in pod.spec.containers {
            for port in container.ports ?? [] {
                guard let name = port.name, !name.isEmpty, let number = UInt16(exactly: port.containerPort),
                      let proto = IPProtocol(.string(port.protocol ?? "TCP")) else { continue }
                out.append(EndpointPort(name: name, protocol: proto, port: number))
            }
        }
        return out
    }

    private static func uniqued(_ nets: [IPNet]) -> [IPNet] {
        var seen: Set<IPNet> = []
        return nets.filter { seen.insert($0).inserted }
    }
}
