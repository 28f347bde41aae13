import Core

/// The names and addresses of one dev cluster (pure): the underlay namespace with its bridge,
/// one namespace per node, the root namespace's link onto the bridge, and each node's address
/// and pod CIDR. The cluster name prefixes every namespace and the root-side link, so several
/// clusters (parallel tests) can coexist on one machine when their underlay subnets differ.
struct ClusterPlan: Sendable, Equatable {
    struct Node: Sendable, Equatable, Codable {
        var index: Int
        var name: String
        /// `ip netns` name of the node.
        var netns: String
        /// eth0's address with prefix length, e.g. 172.31.0.11/24.
        var address: String
        var podCIDR: String
        /// The node's port on the underlay bridge (in the underlay namespace).
        var underlayLink: String

        var addressOnly: String { String(address.split(separator: "/")[0]) }
    }

    static let bridge = "br0"
    /// The underlay end of the root namespace's link.
    static let underlayRootLink = "root"

    var clusterName: String
    var underlayNetns: String
    /// The root namespace's end of its link to the bridge.
    var rootLink: String
    /// The root namespace's address on the underlay, with prefix length (the API server binds here).
    var rootAddress: String
    var nodes: [Node]

    var rootAddressOnly: String { String(rootAddress.split(separator: "/")[0]) }

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    /// `underlay` is an IPv4 network of prefix length 8 to 24 (the root takes host .1, node i
    /// host .(10+i)); `podCIDRBase` an IPv4 /16 or shorter (node i gets its i-th /24).
    init(clusterName: String, nodeCount: Int, underlay: String = "172.31.0.0/24", podCIDRBase: String = "10.244.0.0/16") throws(Invalid) {
        guard Self.isValidClusterName(clusterName) else {
            throw Invalid(description: "cluster name \"\(clusterName)\" must be 1-10 characters of a-z, 0-9 and '-' (it prefixes link names, which are at most 15)")
        }
        guard (1...200).contains(nodeCount) else { throw Invalid(description: "--nodes must be from 1 to 200, not \(nodeCount)") }
        guard let net = IPNet(parsing: underlay), !net.isIPv6, (8...24).contains(net.prefixLength) else {
            throw Invalid(description: "--underlay-cidr \(underlay) must be an IPv4 network with a prefix length from 8 to 24")
        }
        guard let pods = IPNet(parsing: podCIDRBase), !pods.isIPv6, pods.prefixLength <= 16 else {
            throw Invalid(description: "--pod-cidr-base \(podCIDRBase) must be an IPv4 network of prefix length 16 or shorter")
        }
        self.clusterName = clusterName
        underlayNetns = "\(clusterName)-underlay"
        rootLink = "\(clusterName)-ul"
        rootAddress = "\(Self.host(net, 1))/\(net.prefixLength)"
        nodes = (1...nodeCount).map { i in
            var pod = pods.bytes
            pod[2] = pod[2] &+ UInt8(i)
            let name = "node-\(i)"
            return Node(index: i, name: name, netns: "\(clusterName)-\(name)", address: "\(Self.host(net, 10 + i))/\(net.prefixLength)",
                        podCIDR: "\(pod[0]).\(pod[1]).\(pod[2]).0/24", underlayLink: name)
        }
    }

    static func isValidClusterName(_ name: String) -> Bool {
        (1...10).contains(name.count) && name.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    /// Host number `n` of an IPv4 network, as dotted text.
    static func host(_ net: IPNet, _ n: Int) -> String {
        var value = net.bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        value += UInt32(n)
        return [24, 16, 8, 0].map { String((value >> UInt32($0)) & 0xff) }.joined(separator: ".")
    }

    func node(named name: String) -> Node? { nodes.first { $0.name == name } }

    /// The netns of a pod: `<cluster>-pod-<namespace>_<name>` (`_` never occurs in either part).
    static func podNetns(cluster: String, namespace: String, name: String) -> String { "\(cluster)-pod-\(namespace)_\(name)" }
}
