/// Why `calico-node startup` stopped. Every case says what to change.
public enum StartupError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An environment variable has a value we cannot use.
    case invalidSetting(variable: String, value: String, expected: String)
    /// Autodetection found no address; `method` is the method text, `detail` what was looked at.
    case noAddressFound(family: String, method: String, detail: String)
    /// The Node object named `node` does not exist.
    case nodeNotFound(node: String)
    /// host-local IPAM with usePodCidr needs the Node's spec.podCIDR.
    case nodeWithoutPodCIDR(node: String)
    /// The API did not answer within the allowed time.
    case apiUnreachable(seconds: Int, lastError: String)
    /// The API did not answer one of startup's writes or reads (retried while waiting).
    case apiUnavailable(operation: String, detail: String)
    /// The API refused one of startup's writes or reads.
    case apiFailure(operation: String, detail: String)
    /// The host's interfaces or routes could not be read.
    case hostNetwork(String)
    /// The node name file could not be written.
    case nodenameFile(path: String, detail: String)

    public var description: String {
        switch self {
        case .invalidSetting(let variable, let value, let expected):
            return "\(variable)=\"\(value)\" is invalid: expected \(expected)"
        case .noAddressFound(let family, let method, let detail):
            let variable = family == "IPv6" ? "IP6" : "IP"
            return "no \(family) address found with autodetection method \"\(method)\" (\(detail)); "
                + "set \(variable) to this node's address or choose another \(variable == "IP" ? "IP_AUTODETECTION_METHOD" : "IP6_AUTODETECTION_METHOD")"
        case .nodeNotFound(let node):
            return "Node \"\(node)\" does not exist in the Kubernetes API; set NODENAME to this host's Kubernetes node name "
                + "(see `kubectl get nodes`) or start calico-node after the kubelet has registered the node"
        case .nodeWithoutPodCIDR(let node):
            return "Node \"\(node)\" has no spec.podCIDR, but host-local IPAM with usePodCidr needs one; start "
                + "kube-controller-manager with --allocate-node-cidrs=true and --cluster-cidr=<pod CIDR>, or use Calico IPAM (USE_POD_CIDR=false)"
        case .apiUnreachable(let seconds, let lastError):
            return "the Kubernetes API did not answer within \(seconds)s (last error: \(lastError)); check KUBECONFIG or "
                + "K8S_API_ENDPOINT and that the API server is running and reachable from this host"
        case .apiUnavailable(let operation, let detail):
            return "\(operation) failed: \(detail); check that the Kubernetes API server is reachable"
        case .apiFailure(let operation, let detail):
            return "\(operation) failed: \(detail); check that calico-node's ClusterRole (deploy/rbac-kdd.yaml) and the "
                + "Calico CustomResourceDefinitions (deploy/crds.yaml) are installed"
        case .hostNetwork(let detail):
            return "cannot read this host's network configuration: \(detail)"
        case .nodenameFile(let path, let detail):
            return "cannot write the node name to \(path): \(detail); make its directory writable (mount /var/lib/calico)"
        }
    }
}
