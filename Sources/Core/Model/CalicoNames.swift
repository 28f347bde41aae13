/// The names Calico derives for a pod, which felix, calicoctl and the IPAM GC all rely on.
public enum CalicoNames {
    /// felix's default interface prefix (FELIX_INTERFACEPREFIX).
    public static let defaultInterfacePrefix = "cali"

    /// Host-side veth: prefix + the first 11 hex digits of SHA-1("<namespace>.<pod>"), 15
    /// characters with "cali", the kernel's limit.
    public static func hostVethName(namespace: String, pod: String, prefix: String = defaultInterfacePrefix) -> String {
        prefix + SHA1.hexDigest("\(namespace).\(pod)").prefix(11)
    }

    /// WorkloadEndpoint name `<node>-k8s-<pod>-<iface>`, each part with `-` doubled so that
    /// the name splits back unambiguously.
    public static func workloadEndpointName(node: String, pod: String, interface: String = "eth0",
                                            orchestrator: String = "k8s") -> String {
        [node, orchestrator, pod, interface].map { $0.replacing("-", with: "--") }.joined(separator: "-")
    }

    /// The IPAM handle under which a pod's addresses are recorded.
    public static func ipamHandle(network: String = "k8s-pod-network", containerID: String) -> String {
        "\(network).\(containerID)"
    }
}
