import Foundation

/// Checks a Calico resource before it is written, the way calicoctl's validator does for the
/// fields calico-node acts on. Errors name the field.
public enum CtlValidation {
    static let actions = ["Allow", "Deny", "Log", "Pass"]
    static let protocols = ["TCP", "UDP", "ICMP", "ICMPv6", "SCTP", "UDPLite"]
    static let encapModes = ["Never", "Always", "CrossSubnet"]
    static let logSeverities = ["Trace", "Debug", "Info", "Warning", "Error", "Fatal", "Panic"]

    /// Validates `object` (crd.projectcalico.org/v1 form) of `kind`; `label` names it in errors.
    public static func validate(_ object: JSONValue, kind: ResourceKind, label: String) throws(CtlError) {
        let root = CtlFieldCheck(resource: label, path: "", value: object)
        try name(root["metadata"]["name"])
        let spec = root["spec"]
        switch kind {
        case .ipPool: try ipPool(spec)
        case .bgpPeer: try bgpPeer(spec)
        case .bgpConfiguration: try bgpConfiguration(spec)
        case .felixConfiguration: try felixConfiguration(spec)
        case .calicoNetworkPolicy, .globalNetworkPolicy: try policy(spec, global: kind == .globalNetworkPolicy)
        case .networkSet, .globalNetworkSet:
            for n in try spec["nets"].elements() { try n.cidr() }
        case .hostEndpoint: try hostEndpoint(spec)
        case .node: try node(spec)
        default: break
        }
    }

    static func name(_ f: CtlFieldCheck) throws(CtlError) {
        let n = try f.requiredString()
        let ok = n.count <= 253 && n.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "." }
            && n.first.map { $0.isLetter || $0.isNumber } == true && n.last.map { $0.isLetter || $0.isNumber } == true
        guard ok else { throw f.fail("\"\(n)\" is not a valid name: lower-case letters, digits, '-' and '.', starting and ending alphanumeric") }
    }

    static func ipPool(_ spec: CtlFieldCheck) throws(CtlError) {
        let cidrField = spec["cidr"]
        let text = try cidrField.requiredString()
        guard let cidr = IPNet(parsing: text), text.contains("/") else { throw cidrField.fail("\"\(text)\" is not a CIDR") }
        if let block = try spec["blockSize"].integer() {
            let range: ClosedRange<Int64> = cidr.isIPv6 ? 116...128 : 20...32
            guard range.contains(block) else {
                throw spec["blockSize"].fail("\(block) is outside \(range.lowerBound)-\(range.upperBound) for an IPv\(cidr.ipVersion) pool")
            }
            guard block >= cidr.prefixLength else {
                throw spec["blockSize"].fail("/\(block) blocks do not fit in the pool's /\(cidr.prefixLength)")
            }
        }
        try spec["ipipMode"].oneOf(encapModes)
        try spec["vxlanMode"].oneOf(encapModes)
        let ipip = try spec["ipipMode"].string() ?? "Never", vxlan = try spec["vxlanMode"].string() ?? "Never"
        if ipip != "Never" && vxlan != "Never" { throw spec["vxlanMode"].fail("cannot be enabled together with ipipMode") }
        if cidr.isIPv6 && ipip != "Never" { throw spec["ipipMode"].fail("IPIP is not supported for an IPv6 pool") }
        try spec["natOutgoing"].bool()
        try spec["disabled"].bool()
        try spec["nodeSelector"].selector()
        for u in try spec["allowedUses"].elements() { try u.oneOf(["Workload", "Tunnel", "LoadBalancer"]) }
    }

    static func bgpPeer(_ spec: CtlFieldCheck) throws(CtlError) {
        if let peer = try spec["peerIP"].string() {
            // An address, optionally with a port: 10.0.0.1:179 or [fd00::1]:179.
            var host = peer
            if peer.hasPrefix("["), let close = peer.firstIndex(of: "]") {
                host = String(peer[peer.index(after: peer.startIndex)..<close])
            } else if peer.filter({ $0 == ":" }).count == 1, let colon = peer.firstIndex(of: ":") {
                host = String(peer[..<colon])
            }
            guard InetAddress(host) != nil else { throw spec["peerIP"].fail("\"\(peer)\" is not an IP address (optionally with :port)") }
            try spec["asNumber"].asNumber()
            guard spec["asNumber"].isPresent else { throw spec["asNumber"].fail("is required with peerIP") }
        } else if !spec["peerSelector"].isPresent {
            throw spec["peerIP"].fail("is required (or peerSelector)")
        }
        try spec["nodeSelector"].selector()
        try spec["peerSelector"].selector()
        if spec["node"].isPresent && spec["nodeSelector"].isPresent { throw spec["nodeSelector"].fail("cannot be set together with node") }
        try spec["keepOriginalNextHop"].bool()
    }

    static func bgpConfiguration(_ spec: CtlFieldCheck) throws(CtlError) {
        try spec["asNumber"].asNumber()
        try spec["nodeToNodeMeshEnabled"].bool()
        try spec["logSeverityScreen"].oneOf(logSeverities)
        try spec["listenPort"].port()
        for key in ["serviceClusterIPs", "serviceExternalIPs", "serviceLoadBalancerIPs"] {
            for b in try spec[key].elements() { try b["cidr"].cidr() }
        }
    }

    static func felixConfiguration(_ spec: CtlFieldCheck) throws(CtlError) {
        for key in ["logSeverityScreen", "logSeverityFile", "logSeveritySys"] { try spec[key].oneOf(logSeverities) }
        for key in ["healthPort", "prometheusMetricsPort"] { try spec[key].port() }
        for key in ["ipv6Support", "prometheusMetricsEnabled", "healthEnabled", "bpfEnabled", "useInternalDataplaneDriver"] { try spec[key].bool() }
        try spec["defaultEndpointToHostAction"].oneOf(["Drop", "Accept", "Return"])
        for key in ["vxlanMTU", "ipipMTU", "wireguardMTU"] {
            if let m = try spec[key].integer(), !(0...65535).contains(m) { throw spec[key].fail("\(m) is not an MTU") }
        }
    }

    static func policy(_ spec: CtlFieldCheck, global: Bool) throws(CtlError) {
        try spec["selector"].selector()
        try spec["serviceAccountSelector"].selector()
        if global { try spec["namespaceSelector"].selector() }
        if spec["order"].isPresent, case .string = spec["order"].value { throw spec["order"].fail("must be a number") }
        for t in try spec["types"].elements() { try t.oneOf(["Ingress", "Egress"]) }
        for key in ["ingress", "egress"] {
            for rule in try spec[key].elements() { try self.rule(rule) }
        }
        if global {
            try spec["doNotTrack"].bool()
            try spec["preDNAT"].bool()
            if (spec["doNotTrack"].value == .bool(true) || spec["preDNAT"].value == .bool(true)) && spec["applyOnForward"].value != .bool(true) {
                throw spec["applyOnForward"].fail("must be true with doNotTrack or preDNAT")
            }
        }
    }

    static func rule(_ rule: CtlFieldCheck) throws(CtlError) {
        _ = try rule["action"].requiredString()
        try rule["action"].oneOf(actions)
        if let v = try rule["ipVersion"].integer(), v != 4 && v != 6 { throw rule["ipVersion"].fail("must be 4 or 6") }
        let hasProtocol = try `protocol`(rule["protocol"])
        _ = try `protocol`(rule["notProtocol"])
        for key in ["icmp", "notICMP"] {
            let icmp = rule[key]
            if let t = try icmp["type"].integer(), !(0...254).contains(t) { throw icmp["type"].fail("\(t) is not an ICMP type (0-254)") }
            if let c = try icmp["code"].integer(), !(0...255).contains(c) { throw icmp["code"].fail("\(c) is not an ICMP code (0-255)") }
        }
        for side in ["source", "destination"] {
            let e = rule[side]
            for key in ["nets", "notNets"] { for n in try e[key].elements() { try n.cidr() } }
            for key in ["selector", "notSelector", "namespaceSelector"] { try e[key].selector() }
            try e["serviceAccounts"]["selector"].selector()
            for key in ["ports", "notPorts"] {
                let ports = try e[key].elements()
                if !ports.isEmpty && !["TCP", "UDP", "SCTP", "6", "17", "132"].contains(hasProtocol ?? "") {
                    throw e[key].fail("needs the rule's protocol to be TCP, UDP or SCTP")
                }
                for p in ports { try port(p) }
            }
        }
    }

    /// A protocol name or number 1-255; returns its text.
    static func `protocol`(_ f: CtlFieldCheck) throws(CtlError) -> String? {
        switch f.value {
        case nil, .null?: return nil
        case .int(let n)?:
            guard (1...255).contains(n) else { throw f.fail("\(n) is not a protocol number (1-255)") }
            return String(n)
        case .string(let s)?:
            if let n = Int(s) {
                guard (1...255).contains(n) else { throw f.fail("\(n) is not a protocol number (1-255)") }
                return s
            }
            guard let p = protocols.first(where: { $0.lowercased() == s.lowercased() }) else {
                throw f.fail("\"\(s)\" is not a protocol (\(protocols.joined(separator: ", ")) or 1-255)")
            }
            return p.uppercased() == p ? p : p.uppercased()
        default:
            throw f.fail("must be a protocol name or number")
        }
    }

    /// A port (0-65535), a range "A:B" with A <= B, or a named port.
    static func port(_ f: CtlFieldCheck) throws(CtlError) {
        switch f.value {
        case .int(let n)?:
            guard (0...65535).contains(n) else { throw f.fail("\(n) is not a port (0-65535)") }
        case .string(let s)?:
            let parts = s.split(separator: ":", omittingEmptySubsequences: false)
            if parts.count == 2 {
                guard let a = Int(parts[0]), let b = Int(parts[1]), (0...65535).contains(a), (0...65535).contains(b), a <= b else {
                    throw f.fail("\"\(s)\" is not a port range (A:B with 0 <= A <= B <= 65535)")
                }
            } else if let n = Int(s) {
                guard (0...65535).contains(n) else { throw f.fail("\(n) is not a port (0-65535)") }
            } else {
                let ok = !s.isEmpty && s.count <= 15 && s.unicodeScalars.allSatisfy {
                    ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-"
                }
                guard ok else { throw f.fail("\"\(s)\" is not a port, port range or port name") }
            }
        default:
            throw f.fail("must be a port number, range or name")
        }
    }

    static func hostEndpoint(_ spec: CtlFieldCheck) throws(CtlError) {
        _ = try spec["node"].requiredString()
        let ips = try spec["expectedIPs"].elements()
        for ip in ips { try ip.ipAddress() }
        let interface = try spec["interfaceName"].string() ?? ""
        if ips.isEmpty && interface.isEmpty {
            throw spec["interfaceName"].fail("is required when expectedIPs is empty")
        }
        for p in try spec["ports"].elements() {
            _ = try p["name"].requiredString()
            try p["port"].port()
            _ = try `protocol`(p["protocol"])
        }
    }

    static func node(_ spec: CtlFieldCheck) throws(CtlError) {
        let bgp = spec["bgp"]
        if let v4 = try bgp["ipv4Address"].string() {
            guard let n = IPNet(parsing: v4), !n.isIPv6 else { throw bgp["ipv4Address"].fail("\"\(v4)\" is not an IPv4 address or CIDR") }
        }
        if let v6 = try bgp["ipv6Address"].string() {
            guard let n = IPNet(parsing: v6), n.isIPv6 else { throw bgp["ipv6Address"].fail("\"\(v6)\" is not an IPv6 address or CIDR") }
        }
        try bgp["asNumber"].asNumber()
        if let id = try bgp["routeReflectorClusterID"].string(), InetAddress(id)?.family != .ipv4 {
            throw bgp["routeReflectorClusterID"].fail("\"\(id)\" is not an IPv4-formatted cluster ID")
        }
    }
}
