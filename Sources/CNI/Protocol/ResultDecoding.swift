import Core
import Foundation

extension CNIResult {
    /// Reads a result (a prevResult, or a delegated IPAM plugin's output) of any supported
    /// version. The version is the result's own `cniVersion` when it has one, else
    /// `defaultVersion` (the config's). Errors are code 6 and name the field under `path`.
    public static func decode(_ value: JSONValue, defaultVersion: SpecVersion,
                              path: String = "prevResult") throws(CNIError) -> (result: CNIResult, version: SpecVersion) {
        let f = try JSONFields(value, path: path)
        var version = defaultVersion
        if let v = try f.string("cniVersion"), !v.isEmpty {
            guard let known = SpecVersion(rawValue: v) else {
                throw CNIError(.incompatibleVersion,
                               "\(f.name("cniVersion")) \"\(v)\" is not supported; plugin supports \(SpecVersion.supportedList)")
            }
            version = known
        }
        var result = CNIResult()
        for i in try f.objects("interfaces") { result.interfaces.append(try Interface(i)) }
        for i in try f.objects("ips") { result.ips.append(try IPConfig(i, version: version)) }
        for r in try f.objects("routes") { result.routes.append(try Route(r)) }
        if let d = try f.object("dns") { result.dns = try DNS(d) }
        for (n, ip) in result.ips.enumerated() {
            if let idx = ip.interface, !result.interfaces.indices.contains(idx) {
                throw CNIError.decode("\(path).ips[\(n)].interface: index \(idx) is outside the \(result.interfaces.count) interfaces")
            }
        }
        return (result, version)
    }

    /// `decode` from raw bytes, e.g. a delegated plugin's stdout.
    public static func decode(_ data: Data, defaultVersion: SpecVersion,
                              path: String = "result") throws(CNIError) -> (result: CNIResult, version: SpecVersion) {
        let value: JSONValue
        do { value = try JSONValue(data: data) } catch { throw CNIError.decode("\(path): not valid JSON") }
        return try decode(value, defaultVersion: defaultVersion, path: path)
    }
}

extension CNIResult.Interface {
    init(_ f: JSONFields) throws(CNIError) {
        guard let name = try f.string("name") else { throw CNIError.decode("\(f.name("name")): required") }
        self.init(name: name, mac: try f.string("mac"), sandbox: try f.string("sandbox"),
                  mtu: try f.int("mtu"), socketPath: try f.string("socketPath"), pciID: try f.string("pciID"))
    }
}

extension CNIResult.IPConfig {
    init(_ f: JSONFields, version: SpecVersion) throws(CNIError) {
        guard let address = try f.network("address") else { throw CNIError.decode("\(f.name("address")): required") }
        // Before 1.0.0 each IP names its family; it must agree with the address.
        if version.ipsCarryVersion, let v = try f.string("version"), v != String(address.family.rawValue) {
            throw CNIError.decode("\(f.name("version")): \"\(v)\" does not match address \(address)")
        }
        let gateway = try f.address("gateway")
        if let gateway, gateway.family != address.family {
            throw CNIError.decode("\(f.name("gateway")): \(gateway) is not in the family of \(address)")
        }
        self.init(address: address, gateway: gateway, interface: try f.int("interface"))
    }
}

extension CNIResult.Route {
    init(_ f: JSONFields) throws(CNIError) {
        guard let dst = try f.network("dst") else { throw CNIError.decode("\(f.name("dst")): required") }
        self.init(dst: dst, gw: try f.address("gw"), mtu: try f.int("mtu"), advmss: try f.int("advmss"),
                  priority: try f.int("priority"), table: try f.int("table"), scope: try f.int("scope"))
    }
}

extension CNIResult.DNS {
    init(_ f: JSONFields) throws(CNIError) {
        self.init(nameservers: try f.strings("nameservers") ?? [], domain: try f.string("domain"),
                  search: try f.strings("search") ?? [], options: try f.strings("options") ?? [])
    }
}
