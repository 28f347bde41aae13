/// rtnetlink's small numeric route and address attributes, as named values that still accept
/// any number the kernel reports.

/// How far an address or route reaches (rtm_scope / ifa_scope).
public struct RouteScope: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let universe = RouteScope(rawValue: 0)
    public static let site = RouteScope(rawValue: 200)
    /// Directly reachable on the device, no gateway (`scope link`).
    public static let link = RouteScope(rawValue: 253)
    public static let host = RouteScope(rawValue: 254)
    /// For deletes: match any scope.
    public static let nowhere = RouteScope(rawValue: 255)

    public var description: String {
        switch rawValue {
        case 0: return "global"
        case 200: return "site"
        case 253: return "link"
        case 254: return "host"
        case 255: return "nowhere"
        default: return String(rawValue)
        }
    }
}

/// Who installed a route (rtm_protocol). Callers own routes by protocol: each lists and deletes
/// only the routes carrying its own number and never touches the rest.
public struct RouteProtocol: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Matches any protocol (RTPROT_UNSPEC); only meaningful for deletes.
    public static let unspecified = RouteProtocol(rawValue: 0)
    /// Installed by the kernel for an interface address.
    public static let kernel = RouteProtocol(rawValue: 2)
    /// `ip route add` without `proto`.
    public static let boot = RouteProtocol(rawValue: 3)
    public static let `static` = RouteProtocol(rawValue: 4)
    /// BIRD's number (/etc/iproute2/rt_protos: `bird`); Calico's BIRD installed BGP routes with it.
    public static let bird = RouteProtocol(rawValue: 12)
    /// Our BGP speaker's learned routes. 80 is unassigned in iproute2's rt_protos (BIRD owns 12,
    /// zebra 11, the routing daemons 186-192), so `ip route show proto 80` lists exactly ours.
    public static let calicoBGP = RouteProtocol(rawValue: 80)
    /// Felix's routes to local workloads (`<podIP>/32 scope link dev caliX`); separate from BGP so
    /// that neither ever removes the other's routes.
    public static let calicoFelix = RouteProtocol(rawValue: 81)

    public var description: String {
        switch rawValue {
        case 2: return "kernel"
        case 3: return "boot"
        case 4: return "static"
        case 12: return "bird"
        default: return String(rawValue)
        }
    }
}

/// rtm_type.
public struct RouteType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let unicast = RouteType(rawValue: 1)
    public static let local = RouteType(rawValue: 2)
    public static let broadcast = RouteType(rawValue: 3)
    /// Silently drops matching packets (`ip route add blackhole ...`).
    public static let blackhole = RouteType(rawValue: 6)
    public static let unreachable = RouteType(rawValue: 7)
    public static let prohibit = RouteType(rawValue: 8)

    public var description: String {
        switch rawValue {
        case 1: return "unicast"
        case 2: return "local"
        case 3: return "broadcast"
        case 6: return "blackhole"
        case 7: return "unreachable"
        case 8: return "prohibit"
        default: return String(rawValue)
        }
    }
}

/// Routing table ids.
public enum RouteTable {
    public static let main: UInt32 = 254
    public static let local: UInt32 = 255
}
