import Core

/// A packet as the nftables model sees it at one hook.
public struct NFTPacket: Sendable, Hashable {
    public var inputInterface: String
    public var outputInterface: String
    public var source: IPNet
    public var destination: IPNet
    public var l4proto: UInt8
    public var sourcePort: UInt16?
    public var destinationPort: UInt16?
    public var icmpType: UInt8?
    public var icmpCode: UInt8?
    public var ctState: NFTCtState
    public var mark: UInt32

    public init(inputInterface: String, outputInterface: String, source: IPNet, destination: IPNet, l4proto: UInt8,
                sourcePort: UInt16? = nil, destinationPort: UInt16? = nil, icmpType: UInt8? = nil, icmpCode: UInt8? = nil,
                ctState: NFTCtState = .new, mark: UInt32 = 0) {
        self.inputInterface = inputInterface
        self.outputInterface = outputInterface
        self.source = source
        self.destination = destination
        self.l4proto = l4proto
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.icmpType = icmpType
        self.icmpCode = icmpCode
        self.ctState = ctState
        self.mark = mark
    }
}

/// The routing table as the `fib` expression sees it: which interface a route to an address
/// leaves through (longest prefix wins). No route: the lookup finds nothing.
public struct NFTRoutes: Sendable, Hashable {
    public struct Route: Sendable, Hashable {
        public var destination: IPNet
        public var interface: String

        public init(_ destination: IPNet, via interface: String) {
            self.destination = destination
            self.interface = interface
        }
    }

    public var routes: [Route]

    public init(_ routes: [Route] = []) { self.routes = routes }

    /// The routes CNI and felix's endpoint manager make on the node: each local endpoint's
    /// addresses through its host-side interface.
    public static func workloads(_ state: DataplaneState) -> NFTRoutes {
        NFTRoutes(state.endpoints.values.flatMap { plan in plan.addresses.map { Route($0, via: plan.interfaceName) } })
    }

    /// The interface of the most specific route to `address`, if any.
    public func outputInterface(to address: IPNet) -> String? {
        routes.filter { $0.destination.isIPv6 == address.isIPv6 && $0.destination.contains(address) }
            .max { $0.destination.prefixLength < $1.destination.prefixLength }?.interface
    }
}

/// Runs a packet through a rendered `NFTRuleset` the way the kernel would run it through the
/// programmed table: the base chain of a hook, jumps and returns, verdict maps by interface,
/// mark statements, named and anonymous sets, the reverse-path `fib` lookup against `routes`.
/// It reads only the model, never the kernel, so it checks what felix renders against what
/// explain says without privileges.
public enum RulesetPacketWalk {
    public enum Verdict: Sendable, Equatable { case accept, drop }

    /// The verdict of `hook`'s base chain (its policy when no rule decides; accept without one).
    public static func verdict(_ ruleset: NFTRuleset, hook: NFTHook, packet: NFTPacket, routes: NFTRoutes = NFTRoutes()) -> Verdict {
        var p = packet
        return verdict(ruleset, hook: hook, &p, routes)
    }

    /// The verdict of a packet's whole path through the hooks it passes, in order (forwarded:
    /// prerouting, forward; to the node: prerouting, input): the first drop ends it, and marks
    /// set at one hook are seen at the next.
    public static func verdict(_ ruleset: NFTRuleset, path hooks: [NFTHook], packet: NFTPacket, routes: NFTRoutes) -> Verdict {
        var p = packet
        for hook in hooks where verdict(ruleset, hook: hook, &p, routes) == .drop { return .drop }
        return .accept
    }

    private static func verdict(_ ruleset: NFTRuleset, hook: NFTHook, _ p: inout NFTPacket, _ routes: NFTRoutes) -> Verdict {
        guard let base = ruleset.chains.values.first(where: { $0.base?.hook == hook }) else { return .accept }
        switch run(base.name, ruleset, routes, &p, depth: 0) {
        case .accept: return .accept
        case .drop: return .drop
        case .continue: return base.base?.policy == .drop ? .drop : .accept
        }
    }

    private enum Outcome { case accept, drop, `continue` }

    private static func run(_ chain: String, _ ruleset: NFTRuleset, _ routes: NFTRoutes, _ p: inout NFTPacket, depth: Int) -> Outcome {
        guard depth < 16, let c = ruleset.chains[chain] else { return .continue }
        for rule in c.rules {
            guard rule.matches.allSatisfy({ matches($0, ruleset, routes, p) }) else { continue }
            for s in rule.statements {
                switch s {
                case .setMark(let v): p.mark = v
                case .orMark(let v): p.mark |= v
                case .andMark(let v): p.mark &= v
                case .counter, .log: break
                }
            }
            guard var verdict = rule.verdict else { continue }
            // A verdict map picks the verdict by interface; no entry: on to the next rule.
            if case .vmapIifname(let map) = verdict {
                guard let picked = ruleset.maps[map]?.elements[p.inputInterface] else { continue }
                verdict = picked
            } else if case .vmapOifname(let map) = verdict {
                guard let picked = ruleset.maps[map]?.elements[p.outputInterface] else { continue }
                verdict = picked
            }
            switch verdict {
            case .accept: return .accept
            case .drop: return .drop
            case .return: return .continue
            case .jump(let target):
                let r = run(target, ruleset, routes, &p, depth: depth + 1)
                if r != .continue { return r }
            case .goto(let target):
                return run(target, ruleset, routes, &p, depth: depth + 1)
            case .vmapIifname, .vmapOifname:
                continue
            }
        }
        return .continue
    }

    private static func matches(_ m: NFTMatch, _ ruleset: NFTRuleset, _ routes: NFTRoutes, _ p: NFTPacket) -> Bool {
        switch m {
        case .iifname(let n, let neg): return Self.ifname(p.inputInterface, matches: n) != neg
        case .oifname(let n, let neg): return Self.ifname(p.outputInterface, matches: n) != neg
        case .iifnameInSet(let s, let neg): return (ruleset.sets[s]?.elements.contains(.ifname(p.inputInterface)) ?? false) != neg
        case .oifnameInSet(let s, let neg): return (ruleset.sets[s]?.elements.contains(.ifname(p.outputInterface)) ?? false) != neg
        case .addr(let dir, let net, let neg):
            let a = dir == .source ? p.source : p.destination
            guard a.isIPv6 == net.isIPv6 else { return false }
            return net.contains(a) != neg
        case .addrInSet(let dir, let v6, let s, let neg):
            let a = dir == .source ? p.source : p.destination
            guard a.isIPv6 == v6 else { return false }
            let hit = ruleset.sets[s]?.elements.contains { if case .net(let n) = $0 { return n.contains(a) } else { return false } } ?? false
            return hit != neg
        case .addrPortInSet(let dir, let v6, let proto, let s, let neg):
            // As the kernel: a packet of another protocol or family fails the match, negated or not.
            let a = dir == .source ? p.source : p.destination
            guard a.isIPv6 == v6, p.l4proto == proto.number,
                  let port = dir == .source ? p.sourcePort : p.destinationPort,
                  let single = IPNet(bytes: a.bytes, prefixLength: a.bytes.count * 8) else { return false }
            return (ruleset.sets[s]?.elements.contains(.addrPort(single, port)) ?? false) != neg
        case .ipVersion(let v): return p.source.ipVersion == v
        case .l4proto(let n, let neg): return (p.l4proto == n) != neg
        case .l4protoIn(let ns, let neg): return ns.contains(p.l4proto) != neg
        case .port(let proto, let dir, let pm, let neg):
            guard p.l4proto == proto.number, let port = dir == .source ? p.sourcePort : p.destinationPort else { return false }
            let hit: Bool
            switch pm {
            case .eq(let v): hit = port == v
            case .range(let r): hit = r.contains(port)
            case .anyOf(let rs): hit = rs.contains { $0.contains(port) }
            case .set(let s):
                hit = ruleset.sets[s]?.elements.contains { if case .ports(let r) = $0 { return r.contains(port) } else { return false } } ?? false
            }
            return hit != neg
        case .icmp(let v6, let type, let code, let neg):
            let proto: UInt8 = v6 ? 58 : 1
            if type == nil && code == nil { return (p.l4proto == proto) != neg }
            guard p.l4proto == proto else { return false }
            // Negated: ICMP, but not this type and code together (Calico's notICMP).
            let typeEqual = type.map { p.icmpType == $0 } ?? true
            let codeEqual = code.map { p.icmpCode == $0 } ?? true
            return (typeEqual && codeEqual) != neg
        case .ctState(let states, let neg): return states.contains(p.ctState) != neg
        case .mark(let value, let mask, let neg): return ((p.mark & mask) == value) != neg
        case .sourceRouteMissing(let neg): return (routes.outputInterface(to: p.source) != p.inputInterface) != neg
        }
    }

    /// An interface name against a rule's: exact, or nft's wildcard (a trailing `*` matches any rest).
    static func ifname(_ name: String, matches pattern: String) -> Bool {
        pattern.hasSuffix("*") ? name.hasPrefix(pattern.dropLast()) : name == pattern
    }
}
