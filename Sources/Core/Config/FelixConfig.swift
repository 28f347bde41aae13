import Foundation

/// Felix's effective settings after layering (see `FelixConfigLayering`): only what this agent
/// acts on, each with Calico's default.
public struct FelixConfig: Sendable, Hashable {
    /// `Debug`, `Info`, `Warning`, `Error`, `Fatal` or `None`.
    public var logSeverityScreen = "Info"
    public var healthEnabled = true
    public var healthHost = "127.0.0.1"
    public var healthPort = 9099
    /// On by default here (Calico's default is off): the issue asks for metrics on 9091.
    public var prometheusMetricsEnabled = true
    public var prometheusMetricsHost = "127.0.0.1"
    public var prometheusMetricsPort = 9091
    /// `Drop`, `Accept` or `Return`: traffic from a workload to its own host.
    public var defaultEndpointToHostAction = "Drop"
    public var interfacePrefix = "cali"
    /// Seconds between full re-reads of routes we own (0: never).
    public var routeRefreshInterval: Double = 90
    /// Seconds between full re-reads of our nftables table (0: never). Calico's
    /// iptablesRefreshInterval; nftablesRefreshInterval is accepted as well.
    public var nftablesRefreshInterval: Double = 90
    public var ipv6Support = true
    /// Seconds a change waits for more changes before the dataplane is programmed.
    public var debounceInterval: Double = 0.002

    public init() {}
}

/// Where a setting came from, lowest precedence first.
public enum FelixConfigSource: String, Sendable, Hashable, CaseIterable {
    case defaults = "default value"
    case global = "FelixConfiguration default"
    case node = "FelixConfiguration node.<name>"
    case environment = "FELIX_* environment"
}

/// A setting that could not be used; the value from the layer below stays in force.
public struct FelixConfigIssue: Sendable, Hashable, CustomStringConvertible {
    public var source: FelixConfigSource
    public var setting: String
    public var value: String
    public var expected: String

    public var description: String {
        "\(source.rawValue): \(setting)=\"\(value)\" is not \(expected); the lower layer's value stays in force"
    }
}
