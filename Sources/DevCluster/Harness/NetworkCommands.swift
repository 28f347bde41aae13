import Core

/// The `ip` invocations that build and remove a cluster's network (pure; `HarnessShell` runs
/// them). Teardown lists are ordered so each step is valid even if earlier ones were skipped.
enum NetworkCommands {
    typealias Command = [String]

    static func underlay(_ p: ClusterPlan) -> [Command] {
        let ns = p.underlayNetns
        return [
            ["ip", "netns", "add", ns],
            ["ip", "-n", ns, "link", "set", "lo", "up"],
            ["ip", "-n", ns, "link", "add", ClusterPlan.bridge, "type", "bridge"],
            ["ip", "-n", ns, "link", "set", ClusterPlan.bridge, "up"],
            // The root namespace joins the bridge so nodes reach the API server.
            ["ip", "link", "add", p.rootLink, "type", "veth", "peer", "name", ClusterPlan.underlayRootLink, "netns", ns],
            ["ip", "-n", ns, "link", "set", ClusterPlan.underlayRootLink, "master", ClusterPlan.bridge, "up"],
            ["ip", "addr", "add", p.rootAddress, "dev", p.rootLink],
            ["ip", "link", "set", p.rootLink, "up"],
        ]
    }

    static func node(_ n: ClusterPlan.Node, _ p: ClusterPlan) -> [Command] {
        [
            ["ip", "netns", "add", n.netns],
            ["ip", "-n", n.netns, "link", "set", "lo", "up"],
            ["ip", "-n", p.underlayNetns, "link", "add", n.underlayLink, "type", "veth", "peer", "name", "eth0", "netns", n.netns],
            ["ip", "-n", p.underlayNetns, "link", "set", n.underlayLink, "master", ClusterPlan.bridge, "up"],
            ["ip", "-n", n.netns, "addr", "add", n.address, "dev", "eth0"],
            ["ip", "-n", n.netns, "link", "set", "eth0", "up"],
        ]
    }

    /// Routes each node's pod CIDR via that node on every other node (stand-in for BGP).
    static func staticRoutes(_ p: ClusterPlan) -> [Command] {
        p.nodes.flatMap { n in
            p.nodes.filter { $0 != n }.map { other in
                ["ip", "-n", n.netns, "route", "replace", other.podCIDR, "via", other.addressOnly, "dev", "eth0"]
            }
        }
    }

    /// With Calico IPAM the addresses come from blocks (not the podCIDR): route a new pod's
    /// block via its node on every other node.
    static func blockRoutes(block: String, via node: ClusterPlan.Node, nodes: [ClusterPlan.Node]) -> [Command] {
        nodes.filter { $0 != node }.map { ["ip", "-n", $0.netns, "route", "replace", block, "via", node.addressOnly, "dev", "eth0"] }
    }

    /// The IPv4 block (of prefix length `blockSize`) holding `address`.
    static func block(of address: String, blockSize: Int) -> String? {
        guard let net = IPNet(parsing: "\(address)/\(blockSize)"), !net.isIPv6 else { return nil }
        return net.description
    }

    static func removeNetns(_ name: String) -> Command { ["ip", "netns", "del", name] }

    /// Removing the underlay namespace destroys its veths and so their peers; the root link is
    /// removed explicitly too in case the namespace never got it.
    static func teardown(nodeNetns: [String], underlayNetns: String, rootLink: String) -> [Command] {
        nodeNetns.map(removeNetns) + [removeNetns(underlayNetns), ["ip", "link", "del", rootLink]]
    }
}
