import Core

/// The node this plugin runs on: config `nodename`, then `kubernetes.node_name`, then the file
/// at `nodename_file` (calico-node writes /var/lib/calico/nodename at startup), then NODENAME,
/// then the host name. Pure: the file and host name come in.
public enum PluginNodeName {
    public static func resolve(config: NetworkConfig, environment: [String: String],
                               readFile: (String) -> String?, hostname: () -> String) -> String {
        for candidate in [config.nodename, config.kubernetes.nodeName] {
            if let c = candidate?.trimmedWhitespace, !c.isEmpty { return c }
        }
        if let text = readFile(config.nodenameFile) {
            let name = text.trimmedWhitespace
            if !name.isEmpty { return name }
        }
        if let env = environment["NODENAME"]?.trimmedWhitespace, !env.isEmpty { return env }
        return hostname().lowercased()
    }
}
