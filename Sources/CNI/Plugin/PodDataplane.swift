import Core
import Foundation

/// The kernel side of ADD and DEL: netlink in the host namespace and in the pod's, sysctls,
/// and the host veth's alias (which records the container it was made for, so a DEL whose
/// netns is already gone, or GC, can tell our stale veths from a newer sandbox's).
struct PodDataplane {
    let host: Netlink

    init() throws {
        host = try Netlink()
    }

    /// The pair alone, made while IPAM is still choosing the addresses: a veth of this name
    /// belongs to an earlier sandbox of the same pod (one pod has one live sandbox) and is
    /// replaced, as Calico does; the new pod end is made directly in the pod's namespace, and
    /// the host end records the container. On a throw the caller removes the host veth (which
    /// takes the pod end with it).
    func createPair(hostVeth: String, podInterface: String, netns: String, mtu: Int, containerID: String) throws {
        try removeHostVeth(hostVeth, containerID: nil)
        try host.createVeth(name: hostVeth, peerName: podInterface, peerNamespace: NetNamespace(path: netns),
                            mtu: mtu, mac: PodNetworkPlan.hostMAC)
        try HostVethAlias.write(hostVeth, containerID: containerID)
    }

    /// Configures both ends of the pair `createPair` made. Returns the pod interface's MAC.
    func configure(_ plan: PodNetworkPlan) throws -> MACAddress? {
        let ns = NetNamespace(path: plan.netns)
        if let failure = Sysctl.apply(plan.hostSysctls).first { throw failure }
        try host.setUp(plan.hostVeth)

        if plan.hasIPv6 {
            // A pod namespace may come with IPv6 disabled; the pod needs it for its address.
            try ns.run {
                for key in [SysctlKey.ipv6Conf("all", "disable_ipv6"), .ipv6Conf(plan.podInterface, "disable_ipv6")] {
                    if let key, (try? Sysctl.read(key)) != "0" { try Sysctl.write(key, "0") }
                }
            }
        }
        let pod = try Netlink(in: ns)
        try pod.setUp(plan.podInterface)
        for a in plan.addresses { try pod.addAddress(a, link: plan.podInterface, noDAD: true) }
        for n in plan.neighbours { try pod.setPermanentNeighbour(n, mac: PodNetworkPlan.hostMAC, link: plan.podInterface) }
        let podLink = try pod.requireLink(plan.podInterface)
        for r in plan.podRoutes {
            switch r {
            case .onLink(let dst):
                try pod.replaceRoute(KernelRoute.onLink(dst, linkIndex: podLink.index, proto: .boot))
            case .via(let dst, let gw):
                try pod.replaceRoute(KernelRoute(destination: dst, nextHops: [NextHop(gateway: gw, linkIndex: podLink.index)]))
            }
        }
        if !plan.hostRoutes.isEmpty {
            let index = try host.linkIndex(plan.hostVeth)
            for dst in plan.hostRoutes {
                try host.replaceRoute(KernelRoute.onLink(dst, linkIndex: index, proto: .boot))
            }
        }
        return podLink.mac
    }

    /// Whether the pod's namespace already has an interface of that name (ADD must refuse).
    /// A namespace that cannot be entered is the runtime's mistake (code 4).
    func podInterfaceExists(netns: String, name: String) throws(CNIError) -> Bool {
        do {
            return try Netlink(in: NetNamespace(path: netns)).link(named: name) != nil
        } catch let e as KernelError where e.isNotFound {
            throw CNIError(.invalidEnvironment, "CNI_NETNS \(netns) cannot be entered: \(e.message); the runtime must pass an existing network namespace")
        } catch {
            throw CNIError.wrapping(error, "look for \(name) in \(netns)")
        }
    }

    /// DEL's kernel part, idempotent: the pod interface when the namespace is still there (the
    /// host end goes with it), then the host veth if it is still there and was made for this
    /// container (or carries no record); a veth of a newer sandbox of the same pod is kept.
    /// Each returns once the kernel has unregistered the pair (both ends, their addresses,
    /// routes and neighbours); the kernel's RCU teardown after that is sat out by a child
    /// process (`DetachedLinkDelete`), not by DEL.
    func remove(hostVeth: String, podInterface: String, netns: String?, containerID: String) throws {
        if let netns {
            do {
                _ = try DetachedLinkDelete.delete(named: podInterface, in: NetNamespace(path: netns))
            } catch let e where e.isNotFound {
                // The namespace is gone, and with it the pod end.
            }
        }
        try removeHostVeth(hostVeth, containerID: containerID)
    }

    func removeHostVeth(_ name: String, containerID: String?) throws {
        guard let link = try host.link(named: name) else { return }
        if let containerID, let owner = HostVethAlias.read(name), !owner.isEmpty, owner != containerID { return }
        try DetachedLinkDelete.delete(index: link.index, name: name)
    }
}

/// The container ID a host veth was made for, kept in its interface alias (IFLA_IFALIAS,
/// written through sysfs; `ip -d link` shows it as `alias`).
enum HostVethAlias {
    static let prefix = "calico-cni:"

    static func path(_ name: String) -> String { "/sys/class/net/\(name)/ifalias" }

    static func write(_ name: String, containerID: String) throws {
        let op = "set alias of \(name)"
        let fd = open(path(name), O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw KernelError.system(op) }
        defer { close(fd) }
        let bytes = Array((prefix + containerID).utf8)
        guard Glibc.write(fd, bytes, bytes.count) == bytes.count else { throw KernelError.system(op) }
    }

    /// The container ID recorded on `name`, nil when it has no alias of ours.
    static func read(_ name: String) -> String? {
        guard let text = try? String(contentsOfFile: path(name), encoding: .utf8) else { return nil }
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard t.hasPrefix(prefix) else { return nil }
        return String(t.dropFirst(prefix.count))
    }
}
