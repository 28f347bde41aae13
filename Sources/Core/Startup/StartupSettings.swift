import Foundation

/// What the node's address should be: a fixed value, autodetected, or none.
public enum AddressSetting: Sendable, Equatable {
    case fixed(InetPrefix)
    case autodetect(AutodetectionMethod)
    case none
}

/// The default IP pool startup creates when the cluster has none.
public struct DefaultPoolSettings: Sendable, Equatable {
    public var name: String
    public var cidr: InetPrefix
    public var blockSize: Int
    public var nodeSelector: String
    public var natOutgoing: Bool
    public var ipipMode: String
    public var vxlanMode: String
}

/// Startup's configuration, read from calico-node's environment (the variables of Calico's
/// calico/node image). Pure: `parse` takes the environment as a dictionary.
public struct StartupSettings: Sendable, Equatable {
    /// NODENAME, when set.
    public var nodeName: String?
    public var ipv4: AddressSetting
    public var ipv6: AddressSetting
    /// AS: the node's own AS number (plain or dotted); nil keeps the node's current one.
    public var asNumber: String?
    /// CALICO_ROUTE_REFLECTOR_CLUSTER_ID: makes this node a route reflector with that cluster ID.
    public var routeReflectorClusterID: String?
    /// Pools to create when none exists; empty with NO_DEFAULT_POOLS=true.
    public var defaultPools: [DefaultPoolSettings]
    /// CALICO_NETWORKING_BACKEND: `bird` (BGP networking) or `none` (policy only).
    public var networkingBackend: String
    /// USE_POD_CIDR: host-local IPAM with usePodCidr, so the Node must have spec.podCIDR.
    public var usePodCIDR: Bool
    /// CLUSTER_TYPE, recorded in ClusterInformation.
    public var clusterType: String

    public var networkingEnabled: Bool { networkingBackend != "none" }

    public static func parse(_ env: [String: String]) throws(StartupError) -> StartupSettings {
        func value(_ name: String) -> String? {
            guard let v = env[name]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
            return v
        }
        let backend = (value("CALICO_NETWORKING_BACKEND") ?? "bird").lowercased()
        guard ["bird", "none"].contains(backend) else {
            throw .invalidSetting(variable: "CALICO_NETWORKING_BACKEND", value: backend, expected: "bird or none")
        }
        var settings = StartupSettings(
            nodeName: value("NODENAME"),
            ipv4: try address(value("IP") ?? "autodetect", family: .ipv4, variable: "IP",
                              method: value("IP_AUTODETECTION_METHOD") ?? "", methodVariable: "IP_AUTODETECTION_METHOD"),
            ipv6: try address(value("IP6") ?? "none", family: .ipv6, variable: "IP6",
                              method: value("IP6_AUTODETECTION_METHOD") ?? "", methodVariable: "IP6_AUTODETECTION_METHOD"),
            asNumber: nil, routeReflectorClusterID: nil, defaultPools: [], networkingBackend: backend,
            usePodCIDR: try bool(value("USE_POD_CIDR"), "USE_POD_CIDR", default: false),
            clusterType: value("CLUSTER_TYPE") ?? (backend == "none" ? "k8s,kdd" : "k8s,bgp,kdd"))
        if let a = value("AS") {
            guard parseASNumber(a) != nil else {
                throw .invalidSetting(variable: "AS", value: a, expected: "an AS number 1-4294967295 or dotted (e.g. 64512 or 1.10)")
            }
            settings.asNumber = a
        }
        if let id = value("CALICO_ROUTE_REFLECTOR_CLUSTER_ID") {
            guard let a = InetAddress(id), a.family == .ipv4 else {
                throw .invalidSetting(variable: "CALICO_ROUTE_REFLECTOR_CLUSTER_ID", value: id, expected: "an IPv4-formatted ID such as 224.0.0.1")
            }
            settings.routeReflectorClusterID = id
        }
        if !(try bool(value("NO_DEFAULT_POOLS"), "NO_DEFAULT_POOLS", default: false)) {
            settings.defaultPools.append(try pool(env: value, family: .ipv4))
            if value("CALICO_IPV6POOL_CIDR") != nil { settings.defaultPools.append(try pool(env: value, family: .ipv6)) }
        }
        return settings
    }

    /// An AS number: 1-4294967295, or `high.low` with both halves 0-65535 (not 0.0).
    public static func parseASNumber(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 2, let hi = UInt16(parts[0]), let lo = UInt16(parts[1]) {
            let v = UInt32(hi) << 16 | UInt32(lo)
            return v == 0 ? nil : v
        }
        guard parts.count == 1, let v = UInt32(text), v > 0 else { return nil }
        return v
    }

    static func address(_ text: String, family: InetAddress.Family, variable: String, method: String,
                        methodVariable: String) throws(StartupError) -> AddressSetting {
        switch text.lowercased() {
        case "none": return .none
        case "autodetect": return .autodetect(try AutodetectionMethod.parse(method, variable: methodVariable))
        default:
            guard let p = InetPrefix(text), p.family == family else {
                throw .invalidSetting(variable: variable, value: text,
                                      expected: "an \(family == .ipv4 ? "IPv4" : "IPv6") address or CIDR, \"autodetect\" or \"none\"")
            }
            return .fixed(p)
        }
    }

    static func bool(_ text: String?, _ variable: String, default def: Bool) throws(StartupError) -> Bool {
        guard let text else { return def }
        switch text.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw .invalidSetting(variable: variable, value: text, expected: "true or false")
        }
    }

    /// The default pool's variables, spelt out so that a search for a name finds its reader.
    static let poolVariables: [String: [String]] = [
        "CALICO_IPV4POOL_": ["CALICO_IPV4POOL_CIDR", "CALICO_IPV4POOL_BLOCK_SIZE", "CALICO_IPV4POOL_NODE_SELECTOR",
                             "CALICO_IPV4POOL_NAT_OUTGOING", "CALICO_IPV4POOL_IPIP", "CALICO_IPV4POOL_VXLAN"],
        "CALICO_IPV6POOL_": ["CALICO_IPV6POOL_CIDR", "CALICO_IPV6POOL_BLOCK_SIZE", "CALICO_IPV6POOL_NODE_SELECTOR",
                             "CALICO_IPV6POOL_NAT_OUTGOING", "CALICO_IPV6POOL_VXLAN"],
    ]

    static func pool(env value: (String) -> String?, family: InetAddress.Family) throws(StartupError) -> DefaultPoolSettings {
        let v4 = family == .ipv4
        let prefix = v4 ? "CALICO_IPV4POOL_" : "CALICO_IPV6POOL_"
        let cidrText = value(prefix + "CIDR") ?? "192.168.0.0/16"
        guard let cidr = InetPrefix(cidrText), cidrText.contains("/"), cidr.family == family else {
            throw .invalidSetting(variable: prefix + "CIDR", value: cidrText, expected: "an \(v4 ? "IPv4" : "IPv6") CIDR such as \(v4 ? "192.168.0.0/16" : "fd00:10:244::/64")")
        }
        let blockText = value(prefix + "BLOCK_SIZE") ?? (v4 ? "26" : "122")
        let range = v4 ? 20...32 : 116...128
        guard let block = Int(blockText), range.contains(block), block >= cidr.length else {
            throw .invalidSetting(variable: prefix + "BLOCK_SIZE", value: blockText,
                                  expected: "a prefix length in \(range.lowerBound)-\(range.upperBound) and not shorter than the pool's /\(cidr.length)")
        }
        let selector = value(prefix + "NODE_SELECTOR") ?? "all()"
        do { _ = try SelectorExpr.parse(selector) } catch {
            throw .invalidSetting(variable: prefix + "NODE_SELECTOR", value: selector, expected: "a Calico selector (\(error))")
        }
        func mode(_ name: String) throws(StartupError) -> String {
            let text = value(prefix + name) ?? "Never"
            guard let m = ["Never", "Always", "CrossSubnet"].first(where: { $0.lowercased() == text.lowercased() }) else {
                throw .invalidSetting(variable: prefix + name, value: text, expected: "Never, Always or CrossSubnet")
            }
            return m
        }
        return DefaultPoolSettings(
            name: v4 ? "default-ipv4-ippool" : "default-ipv6-ippool", cidr: cidr.network, blockSize: block,
            nodeSelector: selector, natOutgoing: try bool(value(prefix + "NAT_OUTGOING"), prefix + "NAT_OUTGOING", default: v4),
            ipipMode: v4 ? try mode("IPIP") : "Never", vxlanMode: try mode("VXLAN"))
    }
}
