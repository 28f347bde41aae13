import Core

/// The desired BGP sessions of one node, as a pure function of the datastore: Calico's rules for
/// the node-to-node mesh, route reflectors and BGPPeer resources (as its confd renders them into
/// BIRD's configuration).
///
/// - The full mesh (BGPConfiguration `default` nodeToNodeMeshEnabled, true when absent) joins every
///   node that is not a route reflector; a route reflector (a Node with a RouteReflectorClusterID)
///   ignores the mesh setting and peers only as BGPPeers say.
/// - A BGPPeer applies to the node it names (`node`), to the nodes its `nodeSelector` picks, or
///   else to every node. It peers with `peerIP` (AS `asNumber`) or with every node `peerSelector`
///   picks (each node's own AS); a peerSelector peering is symmetric, so the selected nodes (the
///   route reflectors) peer back with every node the BGPPeer applies to.
/// - A route reflector treats a Calico node peer without its cluster ID as a client.
/// - One session per address: node specific wins over global, global over the mesh.
public enum PeerPlanner {
    public static let defaultASN: UInt32 = 64512
    public static let defaultListenPort = 179

    public static func plan(nodeName: String, nodes: [NodeBGPSpec], configurations: [String: BGPConfigurationSpec],
                            peers: [BGPPeer]) -> PeerPlan {
        guard let me = nodes.first(where: { $0.name == nodeName }) else {
            return PeerPlan(local: nil, problems: ["Node \(nodeName) does not exist; run calico-node startup (or check NODENAME)"])
        }
        guard me.ipv4 != nil || me.ipv6 != nil else {
            return PeerPlan(local: nil, problems: [
                "Node \(nodeName) has no \(NodeBGPSpec.ipv4AddressAnnotation) or \(NodeBGPSpec.ipv6AddressAnnotation) annotation; BGP needs one (calico-node startup writes it)"])
        }
        let global = configurations["default"]
        let perNode = configurations["node.\(nodeName)"]
        let defaultAS = global?.asNumber ?? defaultASN
        let local = LocalBGPSettings(
            nodeName: nodeName, asn: me.asNumber ?? defaultAS, routerID: routerID(me),
            listenPort: listenPort(nodeName, configurations),
            clusterID: me.routeReflectorClusterID, ipv4: me.ipv4, ipv6: me.ipv6,
            bindToNodeIP: (perNode?.bindMode ?? global?.bindMode) == "NodeIP")
        var problems: [String] = []
        var byAddress: [IPAddress: DesiredPeer] = [:]
        func offer(_ p: DesiredPeer) {
            guard p.address != me.ipv4, p.address != me.ipv6 else { return }
            if let old = byAddress[p.address], rank(old.type) >= rank(p.type) { return }
            byAddress[p.address] = p
        }
        let others = nodes.filter { $0.name != nodeName }

        // Node-to-node mesh.
        if global?.nodeToNodeMeshEnabled ?? true, !me.isRouteReflector {
            for other in others where !other.isRouteReflector {
                for family in [AddressFamily.AFI.ipv4, .ipv6] {
                    guard let mine = me.address(family), let theirs = other.address(family) else { continue }
                    offer(DesiredPeer(address: theirs, port: listenPort(other.name, configurations),
                                      asn: other.asNumber ?? defaultAS, type: .nodeMesh, node: other.name,
                                      passive: theirs < mine, password: global?.nodeMeshPassword?.secretKeyRef,
                                      sourceAddress: mine))
                }
            }
        }

        // BGPPeer resources.
        for peer in peers.sorted(by: { $0.metadata.name < $1.metadata.name }) {
            let spec = peer.spec
            let type: PeerType = (spec.node?.isEmpty == false || spec.nodeSelector?.isEmpty == false) ? .nodeSpecific : .global
            let applies: (NodeBGPSpec) -> Bool
            do {
                applies = try appliesFunction(spec)
            } catch {
                problems.append("BGPPeer \(peer.metadata.name): nodeSelector: \(error)")
                continue
            }
            func nodePeer(_ other: NodeBGPSpec) {
                for family in [AddressFamily.AFI.ipv4, .ipv6] {
                    guard let mine = me.address(family), let theirs = other.address(family) else { continue }
                    offer(DesiredPeer(address: theirs, port: listenPort(other.name, configurations),
                                      asn: other.asNumber ?? defaultAS, type: type, node: other.name,
                                      resource: peer.metadata.name, passive: theirs < mine,
                                      routeReflectorClient: isClient(me, of: other),
                                      password: spec.password?.secretKeyRef,
                                      keepOriginalNextHop: spec.keepOriginalNextHop ?? false,
                                      sourceAddress: source(spec, me, family)))
                }
            }
            if let selectorText = spec.peerSelector, !selectorText.isEmpty {
                let selector: SelectorExpr
                do { selector = try SelectorExpr.parse(selectorText) } catch {
                    problems.append("BGPPeer \(peer.metadata.name): peerSelector: \(error)")
                    continue
                }
                if applies(me) {
                    for other in others where selector.matches(labels: other.labels) { nodePeer(other) }
                }
                // The reverse direction: the selected nodes peer with those the BGPPeer applies to.
                if selector.matches(labels: me.labels) {
                    for other in others where applies(other) { nodePeer(other) }
                }
                continue
            }
            guard applies(me) else { continue }
            guard let text = spec.peerIP, !text.isEmpty else {
                problems.append("BGPPeer \(peer.metadata.name): set peerIP or peerSelector")
                continue
            }
            guard let ip = PeerIP(text) else {
                problems.append("BGPPeer \(peer.metadata.name): peerIP '\(text)' is not an address (10.0.0.1, 10.0.0.1:179, [fd00::1]:179)")
                continue
            }
            let calicoNode = others.first { $0.ipv4 == ip.address || $0.ipv6 == ip.address }
            guard let asn = spec.asNumber ?? calicoNode.map({ $0.asNumber ?? defaultAS }) else {
                problems.append("BGPPeer \(peer.metadata.name): asNumber is required with peerIP \(text)")
                continue
            }
            guard me.address(ip.address.family) != nil else {
                problems.append("BGPPeer \(peer.metadata.name): peer \(ip.address) is \(ip.address.family), and this node has no address of that family")
                continue
            }
            offer(DesiredPeer(address: ip.address, port: ip.port ?? calicoNode.map { listenPort($0.name, configurations) } ?? defaultListenPort,
                              asn: asn, type: type,
                              node: calicoNode?.name, resource: peer.metadata.name,
                              passive: calicoNode != nil && me.address(ip.address.family).map { ip.address < $0 } == true,
                              routeReflectorClient: calicoNode.map { isClient(me, of: $0) } ?? false,
                              password: spec.password?.secretKeyRef,
                              keepOriginalNextHop: spec.keepOriginalNextHop ?? false,
                              sourceAddress: source(spec, me, ip.address.family)))
        }
        return PeerPlan(local: local, peers: byAddress.values.sorted { $0.address < $1.address }, problems: problems)
    }

    /// A node listens on its own BGPConfiguration's port, else the default one's, else 179.
    static func listenPort(_ node: String, _ configurations: [String: BGPConfigurationSpec]) -> Int {
        configurations["node.\(node)"]?.listenPort ?? configurations["default"]?.listenPort ?? defaultListenPort
    }

    static func rank(_ t: PeerType) -> Int {
        switch t {
        case .nodeMesh: return 0
        case .global: return 1
        case .nodeSpecific: return 2
        }
    }

    static func appliesFunction(_ spec: BGPPeerSpec) throws -> (NodeBGPSpec) -> Bool {
        if let node = spec.node, !node.isEmpty { return { $0.name == node } }
        if let text = spec.nodeSelector, !text.isEmpty {
            let selector = try SelectorExpr.parse(text)
            return { selector.matches(labels: $0.labels) }
        }
        return { _ in true }
    }

    /// We reflect to a Calico node peer unless it is a reflector of our own cluster.
    static func isClient(_ me: NodeBGPSpec, of other: NodeBGPSpec) -> Bool {
        guard let mine = me.routeReflectorClusterID else { return false }
        return other.routeReflectorClusterID != mine
    }

    /// `UseNodeIP` (the default) binds to the node's address; `None` lets the kernel choose.
    static func source(_ spec: BGPPeerSpec, _ me: NodeBGPSpec, _ family: AddressFamily.AFI) -> IPAddress? {
        spec.sourceAddress == "None" ? nil : me.address(family)
    }

    /// The node's IPv4 address; for an IPv6-only node a stable value from its name (as Calico
    /// derives one when no IPv4 address exists).
    static func routerID(_ node: NodeBGPSpec) -> UInt32 {
        if case .v4(let v)? = node.ipv4 { return v }
        var h: UInt32 = 2_166_136_261
        for b in node.name.utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
        return h == 0 ? 1 : h
    }
}
