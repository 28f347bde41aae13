import Core
import Foundation

/// Delegation (spec section 4): the calico plugin runs its IPAM plugin with the runtime's own
/// environment and network config, changing only CNI_COMMAND (a DEL to undo a failed ADD)
/// and, for host-local's `usePodCidr`, the `ipam` section.
public enum Delegation {
    /// The runtime's environment with CNI_COMMAND replaced.
    public static func environment(_ runtime: [String: String], command: CNICommandKind) -> [String: String] {
        var env = runtime
        env["CNI_COMMAND"] = command.rawValue
        return env
    }

    /// The delegate's stdin: the config as received, with `ipam` replaced when given.
    public static func stdin(for config: NetworkConfig, ipam: JSONValue? = nil) -> Data {
        var raw = config.raw
        if let ipam { raw["ipam"] = ipam }
        return Data(JSONWire.encodeSorted(raw))
    }

    /// Calico's ADD result: the IPAM plugin's result plus the host-side veth as the one
    /// interface (no MAC or sandbox, as Calico reports it).
    public static func calicoAddResult(ipam: CNIResult, hostVethName: String) -> CNIResult {
        var result = ipam
        result.interfaces.append(CNIResult.Interface(name: hostVethName))
        return result
    }
}
