import Foundation

/// Loads libcurl (dlopen of it and its ~30 libraries, then curl_global_init: 8-10 ms of a
/// CNI invocation) on a thread of its own, so that a short-lived process that will talk to the
/// API pays for it while it reads its input and does kernel work, instead of on its first
/// request. Idempotent and side-effect free beyond the load: the first request waits for the
/// load in progress (LibCurl.shared is initialised once) and sees its error, if any.
public enum TransportPreload {
    /// Nothing to load when the calico-node agent serves its socket (see AgentSocket): the
    /// plugin will send through it. That answer is kept for the plugin's first API use, so the
    /// process decides once.
    public static func start(environment: [String: String] = ProcessInfo.processInfo.environment) {
        if AgentSocket.decideAtStart(environment: environment) { return }
        Thread.detachNewThread { _ = LibCurl.shared }
    }

    /// Whether a CNI plugin invocation will talk to the Kubernetes API, judged from the
    /// environment alone (before stdin is read): an ADD or DEL for a Kubernetes pod
    /// (K8S_POD_NAME in CNI_ARGS), whose annotations the plugin writes or clears.
    public static func cniInvocationNeedsAPI(_ environment: [String: String]) -> Bool {
        guard let command = environment["CNI_COMMAND"], command == "ADD" || command == "DEL" else { return false }
        return (environment["CNI_ARGS"] ?? "").split(separator: ";").contains { $0.hasPrefix("K8S_POD_NAME=") && $0.count > 13 }
    }
}
