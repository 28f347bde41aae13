import Core

/// Renders the CNI network config list from a template with Calico's `__PLACEHOLDER__`s (pure).
public enum ConflistRenderer {
    /// The built-in template: the calico plugin chained with portmap, as Calico's manifests have it.
    public static let defaultTemplate = """
    {
      "name": "k8s-pod-network",
      "cniVersion": "__CNI_VERSION__",
      "plugins": [
        {
          "type": "calico",
          "log_level": "__LOG_LEVEL__",
          "datastore_type": "__DATASTORE_TYPE__",
          "nodename": "__KUBERNETES_NODE_NAME__",
          "mtu": __CNI_MTU__,
          "ipam": __CNI_IPAM__,
          "policy": {"type": "k8s"},
          "kubernetes": {"kubeconfig": "__KUBECONFIG_FILEPATH__"}
        },
        {"type": "portmap", "snat": true, "capabilities": {"portMappings": true}}
      ]
    }

    """

    /// The text each placeholder becomes. String values are JSON-escaped (the template quotes
    /// them); `__CNI_MTU__` and `__CNI_IPAM__` are bare JSON.
    public static func substitutions(_ s: InstallSettings, environment: [String: String] = [:]) -> [String: String] {
        [
            "__KUBECONFIG_FILEPATH__": escaped(s.kubeconfigPath),
            "__KUBECONFIG_FILENAME__": escaped(s.kubeconfigName),
            "__CNI_NET_DIR__": escaped(s.netDir),
            "__KUBERNETES_NODE_NAME__": escaped(s.nodeName),
            "__CNI_MTU__": String(s.mtu),
            "__LOG_LEVEL__": escaped(s.logLevel),
            "__LOG_FILE_PATH__": "/var/log/calico/cni/cni.log",
            "__DATASTORE_TYPE__": escaped(s.datastoreType),
            "__CNI_VERSION__": escaped(s.cniVersion),
            "__CNI_IPAM__": ipamJSON(s),
            "__KUBERNETES_SERVICE_HOST__": escaped(environment["KUBERNETES_SERVICE_HOST"] ?? ""),
            "__KUBERNETES_SERVICE_PORT__": escaped(environment["KUBERNETES_SERVICE_PORT"] ?? ""),
        ]
    }

    /// The `ipam` object for the chosen IPAM type, keys in a fixed order.
    public static func ipamJSON(_ s: InstallSettings) -> String {
        var fields: [(String, String)] = [("type", quoted(s.ipam.rawValue))]
        switch s.ipam {
        case .hostLocal:
            fields.append(("subnet", quoted("usePodCidr")))
            if let dir = s.hostLocalDataDir { fields.append(("dataDir", quoted(dir))) }
        case .calico:
            fields.append(("assign_ipv4", quoted("true")))
            if !s.ipv4Pools.isEmpty {
                fields.append(("ipv4_pools", "[" + s.ipv4Pools.map(quoted).joined(separator: ", ") + "]"))
            }
        }
        return "{" + fields.map { "\(quoted($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }

    /// Substitutes every placeholder, then checks that the result is a config (list) a runtime
    /// accepts: valid JSON, no placeholder left, and for a `.conflist` a non-empty `plugins`
    /// array whose entries each have a `type`.
    public static func render(_ s: InstallSettings, environment: [String: String] = [:]) throws(InstallError) -> String {
        var text = s.networkConfigTemplate ?? defaultTemplate
        for (placeholder, value) in substitutions(s, environment: environment) {
            text = text.replacingOccurrences(of: placeholder, with: value)
        }
        if let left = firstPlaceholder(in: text) {
            throw .invalidTemplate("has the placeholder \(left), which install-cni does not know")
        }
        let json: JSONValue
        do { json = try JSONWire.parse(Array(text.utf8)) } catch {
            throw .invalidTemplate("is not valid JSON after substitution: \(error)")
        }
        guard json.objectValue != nil else { throw .invalidTemplate("must be a JSON object") }
        if s.confName.hasSuffix(".conflist") {
            guard let plugins = json["plugins"]?.arrayValue, !plugins.isEmpty else {
                throw .invalidTemplate("must have a non-empty \"plugins\" array for \(s.confName) (or name a .conf file with CNI_CONF_NAME)")
            }
            for (i, p) in plugins.enumerated() where (p["type"]?.stringValue ?? "").isEmpty {
                throw .invalidTemplate("has no \"type\" in plugins[\(i)]")
            }
        } else if (json["type"]?.stringValue ?? "").isEmpty {
            throw .invalidTemplate("has no \"type\" (a single-plugin .conf file needs one)")
        }
        return text.hasSuffix("\n") ? text : text + "\n"
    }

    static func firstPlaceholder(in text: String) -> String? {
        guard let start = text.range(of: "__") else { return nil }
        let rest = text[start.upperBound...]
        guard let end = rest.range(of: "__") else { return nil }
        let name = rest[..<end.lowerBound]
        guard !name.isEmpty, name.allSatisfy({ $0.isUppercase || $0 == "_" || $0.isNumber }) else {
            return firstPlaceholder(in: String(rest))
        }
        return "__\(name)__"
    }

    static func quoted(_ s: String) -> String {
        var out: [UInt8] = []
        JSONWire.writeString(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func escaped(_ s: String) -> String { String(quoted(s).dropFirst().dropLast()) }
}
