import Core
import Foundation

/// A configuration list (`10-calico.conflist`) and the spec's derivation of one plugin's
/// execution configuration from it (section 3): the runtime injects the list's `name` and
/// `cniVersion`, replaces `capabilities` by the matching `runtimeConfig` entries, and adds
/// `prevResult`. The dev cluster, playing the kubelet, uses this; the plugin only ever sees
/// the derived single-plugin config.
public struct NetworkConfigList: Sendable, Hashable {
    public var cniVersion: SpecVersion
    public var name: String
    public var disableCheck: Bool
    public var disableGC: Bool
    /// Each plugin's object as written.
    public var plugins: [JSONValue]

    public static func decode(_ data: Data) throws(CNIError) -> NetworkConfigList {
        let value: JSONValue
        do { value = try JSONValue(data: data) } catch { throw CNIError.decode("network config list: not valid JSON") }
        let f = try JSONFields(value, path: "")
        // 1.1.0: `cniVersions` lists every version the file is valid for; the runtime uses
        // the highest one it (here: this plugin) supports, else `cniVersion`.
        let listed = try f.strings("cniVersions") ?? []
        let versionText = try f.string("cniVersion") ?? ""
        let candidates = (listed + [versionText]).compactMap(SpecVersion.init(rawValue:))
        guard let version = candidates.max() else {
            throw CNIError.incompatible(configVersion: ([versionText] + listed).filter { !$0.isEmpty }.joined(separator: ", "))
        }
        let name = try f.string("name") ?? ""
        try NetworkConfig.validateNetworkName(name)
        let plugins = try f.objects("plugins")
        guard !plugins.isEmpty else { throw CNIError.invalidConfig("plugins", "must list at least one plugin") }
        for p in plugins where (try p.string("type") ?? "").isEmpty {
            throw CNIError.invalidConfig("\(p.path).type", "is required")
        }
        return NetworkConfigList(cniVersion: version, name: name, disableCheck: try f.bool("disableCheck") ?? false,
                                 disableGC: try f.bool("disableGC") ?? false,
                                 plugins: plugins.map { .object($0.members) })
    }

    /// The config the runtime sends to plugin `index` on stdin.
    public func executionConfig(plugin index: Int, runtimeConfig: [String: JSONValue] = [:],
                                prevResult: JSONValue? = nil) -> JSONValue {
        guard plugins.indices.contains(index), case .object(var o) = plugins[index] else { return .null }
        o["name"] = .string(name)
        o["cniVersion"] = .string(cniVersion.rawValue)
        let capabilities = o.removeValue(forKey: "capabilities")?.objectValue ?? [:]
        let granted = runtimeConfig.filter { capabilities[$0.key]?.boolValue == true }
        if !granted.isEmpty { o["runtimeConfig"] = .object(granted) }
        if let prevResult { o["prevResult"] = prevResult }
        return .object(o)
    }
}
