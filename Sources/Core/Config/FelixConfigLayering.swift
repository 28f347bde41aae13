import Foundation

/// Builds `FelixConfig` from built-in defaults <- the global `default` FelixConfiguration <-
/// `node.<nodename>` <- FELIX_* environment variables (Calico's names, case-insensitive). Each
/// setting takes its value from the highest layer that has a usable one.
public enum FelixConfigLayering {
    /// One layer: setting name (any case, Calico's spec field name) to its value as text.
    public typealias Layer = [String: String]

    public static func resolve(global: Layer = [:], node: Layer = [:], environment: [String: String] = [:])
        -> (config: FelixConfig, issues: [FelixConfigIssue]) {
        let layers: [(FelixConfigSource, Layer)] = [
            (.environment, environmentLayer(environment)),
            (.node, lowercased(node)),
            (.global, lowercased(global)),
        ]
        var config = FelixConfig()
        var issues: [FelixConfigIssue] = []

        func pick<T>(_ names: [String], _ expected: String, _ parse: (String) -> T?, into value: inout T) {
            for (source, layer) in layers {
                for name in names {
                    guard let text = layer[name] else { continue }
                    if let parsed = parse(text.trimmingCharacters(in: .whitespaces)) {
                        value = parsed
                        return
                    }
                    issues.append(FelixConfigIssue(source: source, setting: name, value: text, expected: expected))
                }
            }
        }

        pick(["logseverityscreen"], "a log level (Debug, Info, Warning, Error, Fatal, None)", logLevel, into: &config.logSeverityScreen)
        pick(["healthenabled"], "true or false", bool, into: &config.healthEnabled)
        pick(["healthhost"], "a host name or address", nonEmpty, into: &config.healthHost)
        pick(["healthport"], "a port 1-65535", port, into: &config.healthPort)
        pick(["prometheusmetricsenabled"], "true or false", bool, into: &config.prometheusMetricsEnabled)
        pick(["prometheusmetricshost"], "a host name or address", nonEmpty, into: &config.prometheusMetricsHost)
        pick(["prometheusmetricsport"], "a port 1-65535", port, into: &config.prometheusMetricsPort)
        pick(["defaultendpointtohostaction"], "Drop, Accept or Return", endpointToHostAction, into: &config.defaultEndpointToHostAction)
        pick(["interfaceprefix"], "an interface name prefix", nonEmpty, into: &config.interfacePrefix)
        pick(["routerefreshinterval"], "a duration (90s, 1m30s, or seconds)", duration, into: &config.routeRefreshInterval)
        pick(["nftablesrefreshinterval", "iptablesrefreshinterval"], "a duration (90s, 1m30s, or seconds)", duration,
             into: &config.nftablesRefreshInterval)
        pick(["ipv6support"], "true or false", bool, into: &config.ipv6Support)
        pick(["debounceinterval"], "a duration (5ms, or seconds)", duration, into: &config.debounceInterval)
        return (config, issues)
    }

    /// The settings of a FelixConfiguration's spec as text (typed and untyped fields alike).
    public static func layer(_ resource: FelixConfiguration?) -> Layer {
        guard let resource else { return [:] }
        var fields: [String: JSONValue] = [:]
        if let data = try? JSONEncoder().encode(resource.spec),
           let typed = try? JSONDecoder().decode(JSONValue.self, from: data).objectValue {
            fields = typed
        }
        for (k, v) in resource.raw?["spec"]?.objectValue ?? [:] { fields[k] = v }
        var out: Layer = [:]
        for (k, v) in fields {
            switch v {
            case .string(let s): out[k] = s
            case .bool(let b): out[k] = b ? "true" : "false"
            case .int(let i): out[k] = String(i)
            case .double(let d): out[k] = String(d)
            case .null, .array, .object: continue
            }
        }
        return out
    }

    /// FELIX_<NAME> variables as settings; an empty variable counts as unset.
    static func environmentLayer(_ env: [String: String]) -> Layer {
        var out: Layer = [:]
        for (key, value) in env where key.uppercased().hasPrefix("FELIX_") && !value.isEmpty {
            out[String(key.dropFirst(6)).lowercased().replacingOccurrences(of: "_", with: "")] = value
        }
        return out
    }

    static func lowercased(_ layer: Layer) -> Layer {
        Dictionary(layer.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    // MARK: parsers

    static func bool(_ s: String) -> Bool? {
        switch s.lowercased() {
        case "true", "1", "yes", "y", "t": return true
        case "false", "0", "no", "n", "f": return false
        default: return nil
        }
    }

    static func port(_ s: String) -> Int? {
        guard let n = Int(s), (1...65535).contains(n) else { return nil }
        return n
    }

    static func nonEmpty(_ s: String) -> String? { s.isEmpty ? nil : s }

    static func logLevel(_ s: String) -> String? {
        let levels = ["Debug", "Info", "Warning", "Error", "Fatal", "None"]
        return levels.first { $0.lowercased() == s.lowercased() } ?? (s.lowercased() == "warn" ? "Warning" : nil)
    }

    static func endpointToHostAction(_ s: String) -> String? {
        ["Drop", "Accept", "Return"].first { $0.lowercased() == s.lowercased() }
    }

    /// Seconds as a plain number, or a Go duration ("1h2m3.5s", "250ms", "10us").
    static func duration(_ s: String) -> Double? {
        if let n = Double(s) { return n >= 0 ? n : nil }
        let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("h", 3600), ("m", 60), ("s", 1)]
        var rest = Substring(s)
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let (unit, scale) = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            rest = rest.dropFirst(unit.count)
            total += value * scale
        }
        return total
    }
}
