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
