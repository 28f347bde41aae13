import Core

/// What the kernel side needs of one local workload: its host interface and addresses.
public struct LocalEndpoint: Sendable, Hashable {
    public var interfaceName: String
    public var addresses: [IPNet]

    public init(interfaceName: String, addresses: [IPNet]) {
        self.interfaceName = interfaceName
        self.addresses = addresses
    }

    public init(_ plan: EndpointPlan) {
        self.init(interfaceName: plan.interfaceName, addresses: plan.addresses)
    }
}

/// The routes felix owns: `<address>/32 (/128) scope link dev <iface> proto 81` for every local
/// endpoint whose interface exists. Pure: the interface indexes come in as a lookup.
public enum EndpointRoutePlan {
    public static func routes(_ endpoints: [LocalEndpoint], linkIndex: (String) -> Int32?,
                              proto: RouteProtocol = .calicoFelix) -> [KernelRoute] {
        var out: [KernelRoute] = []
        for e in endpoints.sorted(by: { $0.interfaceName < $1.interfaceName }) {
            guard let index = linkIndex(e.interfaceName) else { continue }
            for net in e.addresses.sorted() {
                guard let prefix = InetPrefix("\(net.addressText)/\(net.isIPv6 ? 128 : 32)") else { continue }
                out.append(.onLink(prefix, linkIndex: index, proto: proto))
            }
        }
        return out
    }
}
