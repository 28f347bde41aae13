import Core

/// How the BGP role runs (the defaults suit a node; tests and the dev cluster change them).
public struct BGPRoleOptions: Sendable {
    /// Run sockets and kernel routes inside this network namespace (a file such as
    /// /run/netns/NAME); nil uses the process's own.
    public var networkNamespacePath: String?
    /// Program learned routes and own-block blackholes into the kernel.
    public var programKernel: Bool
    /// Where BGPPeer password Secrets live (the namespace calico-node runs in).
    public var secretNamespace: String
    public var holdTime: UInt16
    public var connectRetrySeconds: Int
    /// Advertised graceful restart time; 0 turns graceful restart off.
    public var gracefulRestartSeconds: UInt16
    /// Full kernel resync period (re-reads our routes, removes leftovers, retries blocked ones).
    public var resyncSeconds: Double
    /// How often health and metrics are refreshed from the speaker.
    public var statusSeconds: Double
    /// After a (re)start, how long to wait for the table before removing our old kernel routes
    /// that nothing re-announced (keeps forwarding across our own restart).
    public var startupGraceSeconds: Double
    /// Stop (on SIGTERM, i.e. when `run` is cancelled) for an RFC 4724 graceful restart: close
    /// the sessions without a NOTIFICATION so that peers keep our routes for the restart time.
    /// Off (the default, as calico-node with BIRD stops): every session gets a Cease with an
    /// RFC 8203 shutdown communication and peers drop our routes at once. Needs
    /// `gracefulRestartSeconds` > 0.
    public var gracefulRestartOnStop = false
    /// Where a graceful stop is recorded for the next start (see `GracefulRestartMarker`); nil
    /// records nothing (the next start is never a restarting one). `fromEnvironment` sets the
    /// default path; a role built in code (tests, the dev cluster) records nothing unless told.
    public var restartStatePath: String?

    public static let defaultRestartStatePath = "/var/run/calico/bgp-graceful-restart"

    public init(networkNamespacePath: String? = nil, programKernel: Bool = true, secretNamespace: String = "kube-system",
                holdTime: UInt16 = 90, connectRetrySeconds: Int = 5, gracefulRestartSeconds: UInt16 = 120,
                resyncSeconds: Double = 90, statusSeconds: Double = 1, startupGraceSeconds: Double = 30) {
        self.networkNamespacePath = networkNamespacePath
        self.programKernel = programKernel
        self.secretNamespace = secretNamespace
        self.holdTime = holdTime
        self.connectRetrySeconds = connectRetrySeconds
        self.gracefulRestartSeconds = gracefulRestartSeconds
        self.resyncSeconds = resyncSeconds
        self.statusSeconds = statusSeconds
        self.startupGraceSeconds = startupGraceSeconds
    }
}

extension BGPRoleOptions {
    /// The options `calico-node bgp` and `calico-node run --bgp` take from the environment:
    /// CALICO_NAMESPACE (Secrets), CALICO_BGP_GRACEFUL_RESTART (false by default: a Cease with
    /// a shutdown communication; true stops for a graceful restart), CALICO_BGP_RESTART_STATE_FILE (where a graceful stop is recorded).
    public static func fromEnvironment(_ env: [String: String], networkNamespacePath: String? = nil,
                                       programKernel: Bool = true) throws -> BGPRoleOptions {
        var options = BGPRoleOptions(networkNamespacePath: networkNamespacePath, programKernel: programKernel,
                                     secretNamespace: env["CALICO_NAMESPACE"].flatMap { $0.isEmpty ? nil : $0 } ?? "kube-system")
        if let raw = env["CALICO_BGP_GRACEFUL_RESTART"], !raw.isEmpty {
            switch raw.lowercased() {
            case "true", "yes", "on", "1": options.gracefulRestartOnStop = true
            case "false", "no", "off", "0": options.gracefulRestartOnStop = false
            default: throw BGPRoleError.configuration("CALICO_BGP_GRACEFUL_RESTART must be true or false, not '\(raw)'")
            }
        }
        let path = env["CALICO_BGP_RESTART_STATE_FILE"] ?? ""
        options.restartStatePath = path.isEmpty ? defaultRestartStatePath : path
        return options
    }
}
