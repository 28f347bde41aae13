import Core
import IPAM

extension CNIError {
    /// Any failure inside a handler as the CNI error to print: our own and delegated CNI errors
    /// unchanged, kernel work as 103, the API as 101 (11 when it cannot be reached: the kubelet
    /// should retry), a Node without a pod CIDR as 11. `doing` says what was being attempted.
    static func wrapping(_ error: Error, _ doing: String) -> CNIError {
        switch error {
        case let e as CNIError: return e
        case let e as KernelError: return CNIError(.dataplaneFailure, "\(doing): \(e)")
        case let e as KubeError:
            if case .transport = e { return CNIError(.tryAgainLater, "\(doing): \(e)") }
            return CNIError(.datastoreFailure, "\(doing): \(e)")
        case let e as DatastoreConfigError: return CNIError(.invalidNetworkConfig, "\(doing): \(e)")
        case let e as HostLocalPodCIDRError: return CNIError(.tryAgainLater, "\(doing): \(e)")
        default: return CNIError(.internalFailure, "\(doing): \(error)")
        }
    }
}
