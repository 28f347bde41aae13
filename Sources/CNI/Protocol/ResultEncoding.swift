import Core
import Foundation

extension CNIResult {
    /// The result in the exact shape of `version`, with `cniVersion` set to it. Empty lists are
    /// left out and `dns` is always present, as the reference library prints them.
    public func json(for version: SpecVersion) -> JSONValue {
        JSONValue.compactObject([
            ("cniVersion", .string(version.rawValue)),
            ("interfaces", interfaces.isEmpty ? nil : .array(interfaces.map { $0.json(for: version) })),
            ("ips", ips.isEmpty ? nil : .array(ips.map { $0.json(for: version) })),
            ("routes", routes.isEmpty ? nil : .array(routes.map { $0.json(for: version) })),
            ("dns", dns.json),
        ])
    }

    /// Compact, key-sorted JSON bytes of `json(for:)`.
    public func encoded(for version: SpecVersion) -> Data {
        Data(JSONWire.encodeSorted(json(for: version)))
    }
}

extension CNIResult.Interface {
    func json(for version: SpecVersion) -> JSONValue {
        let extended = version.hasExtendedResultFields
        return JSONValue.compactObject([
            ("name", .string(name)),
            ("mac", .nonEmpty(mac)),
            ("sandbox", .nonEmpty(sandbox)),
            ("mtu", extended && (mtu ?? 0) > 0 ? .optional(mtu) : nil),
            ("socketPath", extended ? .nonEmpty(socketPath) : nil),
            ("pciID", extended ? .nonEmpty(pciID) : nil),
        ])
    }
}

extension CNIResult.IPConfig {
    func json(for version: SpecVersion) -> JSONValue {
        JSONValue.compactObject([
            ("version", version.ipsCarryVersion ? .string(String(address.family.rawValue)) : nil),
            ("address", .string(address.description)),
            ("gateway", gateway.map { .string($0.description) }),
            ("interface", .optional(interface)),
        ])
    }
}

extension CNIResult.Route {
    func json(for version: SpecVersion) -> JSONValue {
        let extended = version.hasExtendedResultFields
        return JSONValue.compactObject([
            ("dst", .string(dst.description)),
            ("gw", gw.map { .string($0.description) }),
            ("mtu", extended ? .optional(mtu) : nil),
            ("advmss", extended ? .optional(advmss) : nil),
            ("priority", extended ? .optional(priority) : nil),
            ("table", extended ? .optional(table) : nil),
            ("scope", extended ? .optional(scope) : nil),
        ])
    }
}

extension CNIResult.DNS {
    var json: JSONValue {
        JSONValue.compactObject([
            ("nameservers", .nonEmpty(nameservers)),
            ("domain", .nonEmpty(domain)),
            ("search", .nonEmpty(search)),
            ("options", .nonEmpty(options)),
        ])
    }

    public var isEmpty: Bool { nameservers.isEmpty && (domain ?? "").isEmpty && search.isEmpty && options.isEmpty }
}
