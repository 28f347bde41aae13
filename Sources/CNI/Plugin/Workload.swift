import Core

/// Who an attachment is for and the host veth name that follows from it.
public struct Workload: Sendable, Hashable {
    public var containerID: String
    /// Both set when the runtime is Kubernetes (CNI_ARGS K8S_POD_NAMESPACE / K8S_POD_NAME).
    public var podNamespace: String?
    public var podName: String?
    public var hostVeth: String

    public var isKubernetesPod: Bool { podNamespace != nil && podName != nil }

    /// Kubernetes pods get `cali` + 11 hex digits of SHA-1("<namespace>.<pod>") (what felix
    /// expects); anything else, as Calico's plugin does, the prefix and the first 11 characters
    /// of the container ID.
    public init(_ r: AttachmentRequest, prefix: String = CalicoNames.defaultInterfacePrefix) {
        containerID = r.containerID
        if let ns = r.podNamespace, let pod = r.podName {
            podNamespace = ns
            podName = pod
            hostVeth = CalicoNames.hostVethName(namespace: ns, pod: pod, prefix: prefix)
        } else {
            podNamespace = nil
            podName = nil
            hostVeth = prefix + r.containerID.prefix(11)
        }
    }
}
