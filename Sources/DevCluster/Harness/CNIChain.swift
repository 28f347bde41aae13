import Core
import Foundation

/// The runtime's side of a CNI network config list, as libcni does it for the kubelet (pure):
/// each plugin's stdin (the list's name and cniVersion injected, capabilities turned into the
/// matching runtimeConfig, prevResult chained), the CNI_* environment, plugin lookup on
/// CNI_PATH, ADD in list order and DEL in reverse with the cached ADD result as prevResult
/// (from spec 0.4.0 on).
struct CNIChain: Sendable {
    struct Invalid: Error, CustomStringConvertible { var description: String }

    /// What a pod's sandbox gives the runtime.
    struct Sandbox: Sendable, Equatable {
        var containerID: String
        var netnsPath: String
        var ifName = "eth0"
        var podNamespace: String
        var podName: String
        var podUID: String
    }

    struct Invocation: Sendable, Equatable {
        var pluginType: String
        var environment: [String: String]
        var stdin: JSONValue
    }

    var name: String
    var cniVersion: String
    var plugins: [[String: JSONValue]]

    init(conflist: Data) throws(Invalid) {
        let json: JSONValue
        do { json = try JSONWire.parse(Array(conflist)) } catch { throw Invalid(description: "the conflist is not valid JSON: \(error)") }
        guard let name = json["name"]?.stringValue, !name.isEmpty else { throw Invalid(description: "the conflist has no \"name\"") }
        guard let version = json["cniVersion"]?.stringValue else { throw Invalid(description: "the conflist has no \"cniVersion\"") }
        guard let plugins = json["plugins"]?.arrayValue?.compactMap(\.objectValue), !plugins.isEmpty,
              plugins.allSatisfy({ $0["type"]?.stringValue?.isEmpty == false }) else {
            throw Invalid(description: "the conflist needs a non-empty \"plugins\" array whose entries each have a \"type\"")
        }
        self.name = name
        cniVersion = version
        self.plugins = plugins
    }

    /// The CNI_* environment for one command, with CNI_ARGS as the kubelet (via containerd) sets it.
    static func environment(_ command: String, _ s: Sandbox, cniPath: [String]) -> [String: String] {
        [
            "CNI_COMMAND": command,
            "CNI_CONTAINERID": s.containerID,
            "CNI_NETNS": s.netnsPath,
            "CNI_IFNAME": s.ifName,
            "CNI_ARGS": "IgnoreUnknown=1;K8S_POD_NAMESPACE=\(s.podNamespace);K8S_POD_NAME=\(s.podName);K8S_POD_INFRA_CONTAINER_ID=\(s.containerID);K8S_POD_UID=\(s.podUID)",
            "CNI_PATH": cniPath.joined(separator: ":"),
        ]
    }

    /// Plugin `index`'s stdin.
    func config(plugin index: Int, prevResult: JSONValue?, runtimeConfig: [String: JSONValue]) -> JSONValue {
        var o = plugins[index]
        o["name"] = .string(name)
        o["cniVersion"] = .string(cniVersion)
        let wanted = o["capabilities"]?.objectValue ?? [:]
        let granted = runtimeConfig.filter { wanted[$0.key]?.boolValue == true }
        if !granted.isEmpty { o["runtimeConfig"] = .object(granted) }
        if let prevResult { o["prevResult"] = prevResult }
        return .object(o)
    }

    func type(of index: Int) -> String { plugins[index]["type"]?.stringValue ?? "" }

    /// The ADD invocation of plugin `index` given the previous plugin's result.
    func add(_ index: Int, _ s: Sandbox, cniPath: [String], prevResult: JSONValue?, runtimeConfig: [String: JSONValue] = [:]) -> Invocation {
        Invocation(pluginType: type(of: index), environment: Self.environment("ADD", s, cniPath: cniPath),
                   stdin: config(plugin: index, prevResult: prevResult, runtimeConfig: runtimeConfig))
    }

    /// The DEL invocations, last plugin first; the cached result is prevResult from 0.4.0 on.
    func del(_ s: Sandbox, cniPath: [String], cachedResult: JSONValue?, runtimeConfig: [String: JSONValue] = [:]) -> [Invocation] {
        let prev = Self.versionAtLeast(cniVersion, "0.4.0") ? cachedResult : nil
        return plugins.indices.reversed().map { i in
            Invocation(pluginType: type(of: i), environment: Self.environment("DEL", s, cniPath: cniPath),
                       stdin: config(plugin: i, prevResult: prev, runtimeConfig: runtimeConfig))
        }
    }

    static func versionAtLeast(_ v: String, _ minimum: String) -> Bool {
        func parts(_ s: String) -> [Int] { s.split(separator: ".").map { Int($0) ?? 0 } + [0, 0, 0] }
        let a = parts(v), b = parts(minimum)
        for i in 0..<3 where a[i] != b[i] { return a[i] > b[i] }
        return true
    }

    /// The first executable named `type` in the CNI_PATH directories, as libcni's FindInPath.
    static func findPlugin(_ type: String, in cniPath: [String], isExecutable: (String) -> Bool) -> String? {
        guard !type.contains("/") else { return nil }
        return cniPath.lazy.map { $0 + "/" + type }.first(where: isExecutable)
    }

    /// The addresses (without prefix length) of a result of any spec version.
    static func addresses(in result: JSONValue) -> [String] {
        let ips = result["ips"]?.arrayValue?.compactMap { $0["address"]?.stringValue } ?? []
        let legacy = [result["ip4"]?["ip"]?.stringValue, result["ip6"]?["ip"]?.stringValue].compactMap { $0 }
        return (ips + legacy).map { String($0.split(separator: "/")[0]) }
    }

    /// The first `.conf`, `.conflist` or `.json` file in `names` in lexical order, as the
    /// kubelet (libcni's ConfFiles) picks the default network.
    static func pickConfigFile(_ names: [String]) -> String? {
        names.filter { $0.hasSuffix(".conflist") || $0.hasSuffix(".conf") || $0.hasSuffix(".json") }.sorted().first
    }
}
