import Core

/// What CHECK found in the kernel for one pod (read by `ObservedPod.read`).
struct ObservedPod: Sendable, Hashable {
    var hostLink: Link?
    /// The container ID recorded on the host veth, if any.
    var hostOwner: String?
    /// Main-table routes on the host that leave through the host veth.
    var hostRoutes: [KernelRoute] = []
    var podLink: Link?
    var podAddresses: [InetPrefix] = []
    var podNeighbours: [Neighbour] = []
    var podRoutes: [KernelRoute] = []
}

/// CHECK's comparison of the plan an ADD would make (from prevResult) with what is there. Pure.
enum PodNetworkCheck {
    /// The part of a prevResult that is this attachment's: ips on the interface named
    /// `ifName` inside a sandbox, or without an interface index; all ips if none match.
    static func podIPs(of prev: CNIResult, ifName: String) -> CNIResult {
        var out = prev
        let mine = prev.ips.filter { ip in
            guard let i = ip.interface else { return true }
            return prev.interfaces.indices.contains(i) && prev.interfaces[i].name == ifName && prev.interfaces[i].sandbox != nil
        }
        if !mine.isEmpty { out.ips = mine }
        return out
    }

    static func problems(expected p: PodNetworkPlan, observed o: ObservedPod, containerID: String) -> [String] {
        var out: [String] = []
        if let host = o.hostLink {
            if !host.isUp { out.append("host veth \(p.hostVeth) is down") }
            if host.mac != PodNetworkPlan.hostMAC { out.append("host veth \(p.hostVeth) has MAC \(host.mac?.description ?? "none"), expected \(PodNetworkPlan.hostMAC)") }
            if let owner = o.hostOwner, owner != containerID { out.append("host veth \(p.hostVeth) was made for container \(owner)") }
            for dst in p.hostRoutes where !o.hostRoutes.contains(where: { $0.destination == dst && $0.nextHops.contains { $0.linkIndex == host.index } }) {
                out.append("host route \(dst) dev \(p.hostVeth) is missing")
            }
        } else {
            out.append("host veth \(p.hostVeth) is missing")
        }
        guard let pod = o.podLink else {
            out.append("interface \(p.podInterface) is missing in \(p.netns)")
            return out
        }
        if pod.kind != "veth" { out.append("\(p.podInterface) is a \(pod.kind ?? "plain device"), expected a veth") }
        if !pod.isUp { out.append("\(p.podInterface) is down") }
        if pod.mtu != p.mtu { out.append("\(p.podInterface) has MTU \(pod.mtu), expected \(p.mtu)") }
        for a in p.addresses where !o.podAddresses.contains(a) {
            out.append("address \(a) is missing on \(p.podInterface)")
        }
        for n in p.neighbours where !o.podNeighbours.contains(where: { $0.address == n && $0.mac == PodNetworkPlan.hostMAC && $0.isPermanent }) {
            out.append("permanent neighbour \(n) lladdr \(PodNetworkPlan.hostMAC) is missing on \(p.podInterface)")
        }
        for r in p.podRoutes {
            switch r {
            case .onLink(let dst):
                if !o.podRoutes.contains(where: { $0.destination == dst && $0.nextHops.contains { $0.linkIndex == pod.index } }) {
                    out.append("route \(dst) dev \(p.podInterface) is missing in the pod")
                }
            case .via(let dst, let gw):
                if !o.podRoutes.contains(where: { $0.destination == dst && $0.nextHops.contains { $0.gateway == gw } }) {
                    out.append("route \(dst) via \(gw) is missing in the pod")
                }
            }
        }
        return out
    }
}

extension ObservedPod {
    /// Reads the host veth, its routes, and the pod interface with its addresses, neighbours
    /// and routes. A namespace that cannot be entered reads as no pod interface.
    static func read(_ p: PodNetworkPlan) throws -> ObservedPod {
        var o = ObservedPod()
        let host = try Netlink()
        o.hostLink = try host.link(named: p.hostVeth)
        if let h = o.hostLink {
            o.hostOwner = HostVethAlias.read(p.hostVeth)
            o.hostRoutes = try host.routes().filter { $0.nextHops.contains { $0.linkIndex == h.index } }
        }
        guard let pod = try openNamespace(p.netns) else { return o }
        o.podLink = try pod.link(named: p.podInterface)
        if let l = o.podLink {
            o.podAddresses = try pod.addresses(linkIndex: l.index).map(\.prefix)
            o.podNeighbours = try pod.neighbours(linkIndex: l.index)
            o.podRoutes = try pod.routes().filter { $0.nextHops.contains { $0.linkIndex == l.index } }
        }
        return o
    }

    /// Netlink in the namespace, nil when the namespace is gone.
    private static func openNamespace(_ path: String) throws -> Netlink? {
        do {
            return try Netlink(in: NetNamespace(path: path))
        } catch let e as KernelError where e.isNotFound {
            return nil
        }
    }
}
