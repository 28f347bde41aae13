/// Where a health or metrics server listens. Loopback by default: these endpoints are for the
/// node's own probes and a local scraper, not the network.
public struct ObservabilityAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public static let defaultHealth = ObservabilityAddress(host: "127.0.0.1", port: 9099)
    public static let defaultMetrics = ObservabilityAddress(host: "127.0.0.1", port: 9091)

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
