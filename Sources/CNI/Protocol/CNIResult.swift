/// The result of an ADD (or of a delegated IPAM plugin), independent of spec version.
/// `ResultEncoding` prints it in the shape of any supported version and `ResultDecoding`
/// reads any supported version back, which is how results convert between versions.
public struct CNIResult: Sendable, Hashable {
    public struct Interface: Sendable, Hashable {
        public var name: String
        public var mac: String?
        /// Set only for interfaces inside a sandbox: the netns path.
        public var sandbox: String?
        /// 1.1.0 fields; left out of older versions' output.
        public var mtu: Int?
        public var socketPath: String?
        public var pciID: String?

        public init(name: String, mac: String? = nil, sandbox: String? = nil,
                    mtu: Int? = nil, socketPath: String? = nil, pciID: String? = nil) {
            self.name = name; self.mac = mac; self.sandbox = sandbox
            self.mtu = mtu; self.socketPath = socketPath; self.pciID = pciID
        }
    }

    public struct IPConfig: Sendable, Hashable {
        /// The address with the prefix of its network, e.g. 10.0.0.5/32.
        public var address: CNIIPNetwork
        public var gateway: CNIIPAddress?
        /// Index into `interfaces`; nil in IPAM plugin output.
        public var interface: Int?

        public init(address: CNIIPNetwork, gateway: CNIIPAddress? = nil, interface: Int? = nil) {
            self.address = address; self.gateway = gateway; self.interface = interface
        }
    }

    public struct Route: Sendable, Hashable {
        public var dst: CNIIPNetwork
        public var gw: CNIIPAddress?
        /// 1.1.0 fields; left out of older versions' output.
        public var mtu: Int?
        public var advmss: Int?
        public var priority: Int?
        public var table: Int?
        public var scope: Int?

        public init(dst: CNIIPNetwork, gw: CNIIPAddress? = nil, mtu: Int? = nil, advmss: Int? = nil,
                    priority: Int? = nil, table: Int? = nil, scope: Int? = nil) {
            self.dst = dst; self.gw = gw; self.mtu = mtu; self.advmss = advmss
            self.priority = priority; self.table = table; self.scope = scope
        }
    }

    public struct DNS: Sendable, Hashable {
        public var nameservers: [String]
        public var domain: String?
        public var search: [String]
        public var options: [String]

        public init(nameservers: [String] = [], domain: String? = nil, search: [String] = [], options: [String] = []) {
            self.nameservers = nameservers; self.domain = domain; self.search = search; self.options = options
        }
    }

    public var interfaces: [Interface]
    public var ips: [IPConfig]
    public var routes: [Route]
    public var dns: DNS

    public init(interfaces: [Interface] = [], ips: [IPConfig] = [], routes: [Route] = [], dns: DNS = DNS()) {
        self.interfaces = interfaces; self.ips = ips; self.routes = routes; self.dns = dns
    }
}
