#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// Where the calico-node agent serves the CNI plugin's API requests, and whether it is
/// serving: decided once per plugin invocation (a stat and a connect, tens of microseconds).
public enum AgentSocket {
    public static let defaultPath = "/var/run/calico/cni-api.sock"
    /// Overrides the path; `none` (or empty) turns the socket path off: always the direct API.
    public static let environmentVariable = "CALICO_CNI_API_SOCKET"

    /// The socket the plugin should try, nil when turned off.
    public static func path(environment: [String: String]) -> String? {
        guard let value = environment[environmentVariable] else { return defaultPath }
        let v = value.trimmingCharacters(in: .whitespaces)
        return v.isEmpty || v.lowercased() == "none" ? nil : v
    }

    /// True when `path` is a unix socket that accepts a connection now (an agent listens). A
    /// stale socket file (agent gone) refuses; a missing one fails the stat: both false.
    public static func isServing(_ path: String) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFSOCK else { return false }
        guard let fd = try? UnixSocketConnection.connect(path, timeout: 1, nonBlocking: true) else { return false }
        close(fd)
        return true
    }

    /// The socket to use for the API, nil for the direct path; the answer TransportPreload gave
    /// at process start when it asked about the same path, else asked now.
    public static func choose(environment: [String: String]) -> String? {
        guard let path = path(environment: environment) else { return nil }
        if let earlier = preloadDecision.withLock({ d -> Bool? in
            defer { d = nil }
            return d?.path == path ? d?.serving : nil
        }) {
            return earlier ? path : nil
        }
        return isServing(path) ? path : nil
    }

    /// Asked at process start (TransportPreload), taken by the first plugin datastore, so that a
    /// process decides once. Consumed when taken: a later in-process invocation (tests) asks anew.
    static func decideAtStart(environment: [String: String]) -> Bool {
        guard let path = path(environment: environment) else { return false }
        let serving = isServing(path)
        preloadDecision.withLock { $0 = (path, serving) }
        return serving
    }

    private static let preloadDecision = Mutex<(path: String, serving: Bool)?>(nil)
}
