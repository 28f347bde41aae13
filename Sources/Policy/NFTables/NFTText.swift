import Core

/// `nft -f` syntax for a ruleset (tests, debugging, and the `nft -f` side of the benchmark; felix
/// itself programs through netlink).
public enum NFTText {
    /// The whole table: `table inet calico { ... }`. With `flushFirst`, preceded by a
    /// create-then-delete so `nft -f` replaces an existing table.
    public static func render(_ rs: NFTRuleset, replacing: Bool = false) -> String {
        var out = ""
        if replacing {
            out += "table \(rs.family.rawValue) \(rs.table)\ndelete table \(rs.family.rawValue) \(rs.table)\n"
        }
        out += "table \(rs.family.rawValue) \(rs.table) {\n"
        for set in rs.sets.values.sorted(by: { $0.name < $1.name }) {
            out += "\tset \(set.name) {\n\t\ttype \(set.type.rawValue)\n"
            if set.interval { out += "\t\tflags interval\n" }
            if set.counter { out += "\t\tcounter\n" }
            if !set.elements.isEmpty {
                out += "\t\telements = { " + set.elements.sorted().map(\.description).joined(separator: ", ") + " }\n"
            }
            out += "\t}\n"
        }
        for map in rs.maps.values.sorted(by: { $0.name < $1.name }) {
            out += "\tmap \(map.name) {\n\t\ttype ifname : verdict\n"
            if !map.elements.isEmpty {
                let items = map.elements.sorted { $0.key < $1.key }.map { "\(quoted($0.key)) : \(verdict($0.value))" }
                out += "\t\telements = { " + items.joined(separator: ", ") + " }\n"
            }
            out += "\t}\n"
        }
        // Regular chains before base chains, so that jumps name chains already declared.
        let chains = rs.chains.values.sorted { ($0.base != nil ? 1 : 0, $0.name) < ($1.base != nil ? 1 : 0, $1.name) }
        for chain in chains {
            out += "\tchain \(chain.name) {\n"
            if let b = chain.base {
                out += "\t\ttype \(b.type.rawValue) hook \(b.hook.rawValue) priority \(b.priority); policy \(b.policy.rawValue);\n"
            }
            for rule in chain.rules {
                out += "\t\t\(rule.body) comment \(quoted(rule.storedComment))\n"
            }
            out += "\t}\n"
        }
        return out + "}\n"
    }

    /// One rule's matches, statements and verdict.
    public static func rule(_ r: NFTRule) -> String {
        var parts = r.matches.map(match)
        parts += r.statements.map(statement)
        if let v = r.verdict { parts.append(verdict(v)) }
        return parts.joined(separator: " ")
    }

    static func quoted(_ s: String) -> String {
        // Interface names and comments almost never need escaping: no search-and-replace then.
        guard s.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") }) else { return "\"" + s + "\"" }
        return "\"" + s.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
    }

    private static func op(_ negated: Bool) -> String { negated ? "!= " : "" }

    static func hex(_ v: UInt32) -> String { "0x" + String(v, radix: 16) }

    static func ports(_ m: NFTPortMatch) -> String {
        func range(_ r: ClosedRange<UInt16>) -> String { r.count == 1 ? "\(r.lowerBound)" : "\(r.lowerBound)-\(r.upperBound)" }
        switch m {
        case .eq(let p): return "\(p)"
        case .range(let r): return range(r)
        case .anyOf(let rs): return "{ " + canonicalPorts(rs).map(range).joined(separator: ", ") + " }"
        case .set(let s): return "@\(s)"
        }
    }

    static func canonicalPorts(_ rs: [ClosedRange<UInt16>]) -> [ClosedRange<UInt16>] {
        Array(Set(rs)).sorted { ($0.lowerBound, $0.upperBound) < ($1.lowerBound, $1.upperBound) }
    }

    static func match(_ m: NFTMatch) -> String {
        switch m {
        case .iifname(let n, let neg): return "iifname \(op(neg))\(quoted(n))"
        case .oifname(let n, let neg): return "oifname \(op(neg))\(quoted(n))"
        case .iifnameInSet(let s, let neg): return "iifname \(op(neg))@\(s)"
        case .oifnameInSet(let s, let neg): return "oifname \(op(neg))@\(s)"
        case .addr(let d, let net, let neg):
            let text = net.isSingleAddress ? net.addressText : net.description
            return "\(net.isIPv6 ? "ip6" : "ip") \(d.rawValue) \(op(neg))\(text)"
        case .addrInSet(let d, let v6, let s, let neg): return "\(v6 ? "ip6" : "ip") \(d.rawValue) \(op(neg))@\(s)"
        case .addrPortInSet(let d, let v6, let proto, let s, let neg):
            let port: NFTPortDirection = d == .source ? .source : .destination
            return "\(v6 ? "ip6" : "ip") \(d.rawValue) . \(proto.rawValue) \(port.rawValue) \(op(neg))@\(s)"
        case .ipVersion(let v): return "meta nfproto \(v == 6 ? "ipv6" : "ipv4")"
        case .l4proto(let p, let neg): return "meta l4proto \(op(neg))\(p)"
        case .l4protoIn(let ps, let neg):
            return "meta l4proto \(op(neg)){ " + Array(Set(ps)).sorted().map(String.init).joined(separator: ", ") + " }"
        case .port(let proto, let d, let pm, let neg): return "\(proto.rawValue) \(d.rawValue) \(op(neg))\(ports(pm))"
        case .icmp(let v6, let type, let code, let neg):
            let name = v6 ? "icmpv6" : "icmp"
            if neg, let type, let code {
                // Not this type and code together: one compare of both bytes (type != T or code != C).
                return "meta l4proto \(v6 ? 58 : 1) @th,0,16 != \(UInt16(type) << 8 | UInt16(code))"
            }
            var parts: [String] = []
            if let type { parts.append("\(name) type \(op(neg))\(type)") }
            if let code { parts.append("\(name) code \(op(neg))\(code)") }
            if parts.isEmpty { parts.append("meta l4proto \(op(neg))\(v6 ? 58 : 1)") }
            return parts.joined(separator: " ")
        case .ctState(let states, let neg):
            // The flag-list form: a bit test, as we program it (braces would make a set lookup).
            return "ct state \(op(neg))" + states.sorted().map(\.rawValue).joined(separator: ",")
        case .mark(let value, let mask, let neg):
            return "meta mark & \(hex(mask)) \(neg ? "!=" : "==") \(hex(value))"
        case .sourceRouteMissing(let neg): return "fib saddr . iif oif \(neg ? "exists" : "missing")"
        }
    }

    static func statement(_ s: NFTStatement) -> String {
        switch s {
        case .counter: return "counter"
        case .setMark(let v): return "meta mark set \(hex(v))"
        case .orMark(let v): return "meta mark set meta mark | \(hex(v))"
        case .andMark(let v): return "meta mark set meta mark & \(hex(v))"
        case .log(let prefix): return "log prefix \(quoted(prefix))"
        }
    }

    static func verdict(_ v: NFTVerdict) -> String {
        switch v {
        case .accept: return "accept"
        case .drop: return "drop"
        case .return: return "return"
        case .jump(let c): return "jump \(c)"
        case .goto(let c): return "goto \(c)"
        case .vmapIifname(let m): return "iifname vmap @\(m)"
        case .vmapOifname(let m): return "oifname vmap @\(m)"
        }
    }
}
