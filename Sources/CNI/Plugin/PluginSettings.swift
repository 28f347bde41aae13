import Core

/// This plugin's knobs beyond Calico's NetConf keys, read from the raw network config.
///
/// `felix_owns_routes` (bool, default false): when true the plugin does not add the host route
/// `<podIP>/32 dev caliX` and leaves it to felix (which programs routes to local workloads from
/// the WorkloadEndpoints); when false the plugin adds it so the pod is reachable the moment ADD
/// returns, whether or not felix runs.
public struct PluginSettings: Sendable, Hashable {
    public var felixOwnsRoutes: Bool
    /// The interface prefix for host veths (felix's InterfacePrefix), `cali` unless the config
    /// says `interface_prefix`.
    public var interfacePrefix: String

    public init(felixOwnsRoutes: Bool = false, interfacePrefix: String = CalicoNames.defaultInterfacePrefix) {
        self.felixOwnsRoutes = felixOwnsRoutes
        self.interfacePrefix = interfacePrefix
    }

    public static func read(_ config: NetworkConfig) throws(CNIError) -> PluginSettings {
        var s = PluginSettings()
        if let v = config.raw["felix_owns_routes"], v != .null {
            guard let b = v.boolValue else { throw CNIError(.decodeFailure, "failed to decode felix_owns_routes: must be true or false") }
            s.felixOwnsRoutes = b
        }
        if let v = config.raw["interface_prefix"], v != .null {
            guard let p = v.stringValue, !p.isEmpty, p.utf8.count <= 4, p.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                throw CNIError(.invalidNetworkConfig, "invalid network config: interface_prefix must be 1-4 letters or digits (host veth names are the prefix plus 11 hex digits)")
            }
            s.interfacePrefix = p
        }
        return s
    }
}
