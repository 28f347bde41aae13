import Core
import Foundation
import IPAM

/// The calico CNI plugin's handlers behind `CNIPluginRunner`: ADD, DEL, CHECK, STATUS and GC
/// for one parsed request. The pure decisions live in PodNetworkPlan, PodNetworkCheck,
/// PodAnnotations and HostLocalPodCIDR; this type strings them together with the edges
/// (netlink, the IPAM plugin process, the Kubernetes API). Every invocation is its own
/// process and touches only its own pod's names, so parallel invocations on one node do not
/// interfere; host-local and calico-ipam serialise their own stores.
public struct CalicoCNIPlugin: Sendable {
    /// The runtime's environment, passed on to the IPAM plugin.
    public var environment: [String: String]
    var readFile: @Sendable (String) -> String?
    var hostname: @Sendable () -> String

    public init(environment: [String: String]) {
        self.environment = environment
        readFile = { try? String(contentsOfFile: $0, encoding: .utf8) }
        hostname = { ProcessInfo.processInfo.hostName }
    }

    /// The handler for CNIPluginRunner: the ADD result, nil for the other commands.
    public func handle(_ request: CNIRequest) async throws -> CNIResult? {
        switch request {
        case .add(let r): return try await add(r)
        case .del(let r): try await del(r)
        case .check(let r): try await check(r)
        case .status(let config, let paths): try await status(config, paths: paths)
        case .gc(let g): try await gc(g)
        }
        return nil
    }

    func nodeName(_ config: NetworkConfig) -> String {
        PluginNodeName.resolve(config: config, environment: environment, readFile: readFile, hostname: hostname)
    }

    /// The IPAM plugin; calico-ipam runs in this process when it is this executable (see
    /// SelfExecutable), sharing `store`'s API client.
    func delegate(_ config: NetworkConfig, paths: [String], store: PluginDatastore) -> IPAMDelegate {
        IPAMDelegate(type: config.ipam.type, paths: paths, environment: environment) { (path, env, stdin) async throws(CNIError) in
            if config.ipam.type == "calico-ipam", SelfExecutable.isSelf(path) {
                return await CalicoIPAMPlugin.runInProcess(environment: env, stdin: stdin, api: { try store.api() })
            }
            return try PluginProcess.run(path: path, environment: env, stdin: stdin)
        }
    }

    /// The ipam section to hand to the delegate: host-local's usePodCidr markers replaced with
    /// this Node's pod CIDRs; anything else as received.
    func resolvedIPAM(_ config: NetworkConfig, _ store: PluginDatastore) async throws(CNIError) -> JSONValue {
        try await resolvingIPAM(config, store, confirm: false).ipam
    }

    /// The ipam section, and with `confirm`, when the pod CIDRs came from the on-disk cache,
    /// the Node read that confirms them while IPAM runs (its value: nil when they still hold,
    /// else the Node's own).
    func resolvingIPAM(_ config: NetworkConfig, _ store: PluginDatastore,
                       confirm: Bool) async throws(CNIError) -> (ipam: JSONValue, confirmation: Task<[String]?, Error>?) {
        let ipam = config.ipam.raw
        guard config.ipam.type == "host-local", HostLocalPodCIDR.needsPodCIDR(ipam) else { return (ipam, nil) }
        let node = nodeName(config)
        let lookup = PodCIDRLookup(cache: PodCIDRCache(environment: environment), store: store, node: node)
        do {
            let found = try await lookup.cidrs()
            if found.cached, let resolved = try? HostLocalPodCIDR.substitute(ipam, podCIDRs: found.cidrs) {
                return (resolved, confirm ? Task { try await lookup.confirm(found.cidrs) } : nil)
            }
            // Read afresh: not cached, or the cached list lacks a family the config asks for.
            let cidrs = found.cached ? try await lookup.refresh() : found.cidrs
            return (try HostLocalPodCIDR.substitute(ipam, podCIDRs: cidrs), nil)
        } catch {
            throw CNIError.wrapping(error, "resolve ipam usePodCidr from Node \(node)")
        }
    }

    // MARK: ADD

    func add(_ r: AttachmentRequest) async throws(CNIError) -> CNIResult {
        let timer = PhaseTimer("ADD", environment: environment)
        defer { timer.total() }
        let settings = try PluginSettings.read(r.config)
        let w = Workload(r, prefix: settings.interfacePrefix)
        guard let netns = r.netns else { throw CNIError(.invalidEnvironment, "CNI_NETNS is required for ADD") }
        // The API's fixed cost (client, TLS handshake, the Node read that usePodCidr needs)
        // starts first and runs beside the kernel work below; it is joined where its answer
        // is needed, and nothing is allocated before then.
        let store = PluginDatastore(config: r.config, environment: environment)
        defer { timer.note(store.usage()) }
        if w.podName != nil || r.config.ipam.type == "calico-ipam" { store.warmUp() }
        let resolving = Task { () async -> Result<(ipam: JSONValue, confirmation: Task<[String]?, Error>?), CNIError> in
            do throws(CNIError) { return .success(try await resolvingIPAM(r.config, store, confirm: true)) } catch { return .failure(error) }
        }
        let dataplane: PodDataplane
        do { dataplane = try PodDataplane() } catch { throw CNIError.wrapping(error, "open netlink") }
        if try timer.measure("look for the pod interface", { () throws(CNIError) in try dataplane.podInterfaceExists(netns: netns, name: r.ifName) }) {
            throw CNIError(.interfaceExists,
                           "interface \(r.ifName) already exists in \(netns): a second ADD for one attachment; DEL it first or use another CNI_IFNAME")
        }
        // The veth pair needs no address: it is made on its own thread while IPAM runs.
        let (hostVeth, ifName, mtu, containerID) = (w.hostVeth, r.ifName, r.config.effectiveMTU, r.containerID)
        let pair = OwnThread.start {
            try timer.measure("create the veth pair") {
                try dataplane.createPair(hostVeth: hostVeth, podInterface: ifName, netns: netns, mtu: mtu, containerID: containerID)
            }
        }
        let delegate = delegate(r.config, paths: r.paths, store: store)
        let ipam: JSONValue, allocated: CNIResult
        var confirmation: Task<[String]?, Error>?
        do {
            (ipam, confirmation) = try await timer.measure("read the Node's podCIDR") { () async throws(CNIError) in
                try await resolving.value.get()
            }
            allocated = try await timer.measure("IPAM ADD") { () async throws(CNIError) in try await delegate.add(r.config, ipam: ipam) }
        } catch {
            // Nothing was allocated; only the pair goes again.
            _ = try? pair.wait()
            try? dataplane.removeHostVeth(hostVeth, containerID: containerID)
            throw error
        }

        // From here on a failure gives the addresses back and removes what was made.
        do {
            try pair.wait()
            if let confirmation {
                // The cached pod CIDRs were used; a Node registered again may have new ones.
                if let current = try await timer.measure("confirm the Node's podCIDR", { try await confirmation.value }) {
                    throw CNIError(.tryAgainLater, "this Node's pod CIDRs are now \(current.joined(separator: ", ")), not the cached ones "
                                   + "the address came from; the cache is refreshed, so a retry allocates from the right range")
                }
            }
            let plan = try PodNetworkPlan.make(hostVeth: w.hostVeth, podInterface: r.ifName, netns: netns,
                                               mtu: r.config.effectiveMTU, ipam: allocated,
                                               felixOwnsRoutes: settings.felixOwnsRoutes)
            // The annotation patch (an API round trip) runs while the kernel work is done.
            let annotation = w.podNamespace.flatMap { ns in
                w.podName.map { pod in
                    Task {
                        try await self.patchPod(store, ns, pod, PodAnnotations.addPatch(addresses: plan.addresses, containerID: r.containerID), "annotate")
                    }
                }
            }
            let mac: MACAddress?
            do {
                mac = try timer.measure("addresses, routes") { try dataplane.configure(plan) }
            } catch {
                // Do not leave the released address in the annotations.
                if let annotation, (try? await annotation.value) != nil, let ns = w.podNamespace, let pod = w.podName {
                    try? await patchPod(store, ns, pod, PodAnnotations.delPatch(), "clear")
                }
                throw error
            }
            try await timer.measure("wait for the Pod annotation") { try await annotation?.value }
            return plan.result(podMAC: mac, dns: allocated.dns)
        } catch {
            let failure = CNIError.wrapping(error, "set up \(w.hostVeth) for \(r.containerID)")
            try? dataplane.removeHostVeth(w.hostVeth, containerID: r.containerID)
            do {
                try await delegate.del(r.config, ipam: ipam)
            } catch {
                throw CNIError(code: failure.code, msg: failure.msg,
                               details: "and releasing the address failed too: \(error.msg)")
            }
            throw failure
        }
    }

    // MARK: DEL

    /// Idempotent: whatever is already gone (netns, interface, reservation, Pod) is fine.
    func del(_ r: AttachmentRequest) async throws(CNIError) {
        let timer = PhaseTimer("DEL", environment: environment)
        defer { timer.total() }
        let settings = try PluginSettings.read(r.config)
        let w = Workload(r, prefix: settings.interfacePrefix)
        let store = PluginDatastore(config: r.config, environment: environment)
        defer { timer.note(store.usage()) }
        // The Pod's annotations are cleared (two API round trips) while the rest is done.
        let annotation = w.podNamespace.flatMap { ns in
            w.podName.map { pod in Task { try await self.clearPod(store, ns, pod, containerID: r.containerID) } }
        }
        // Deleting a veth waits out the kernel's RCU grace periods (~25 ms), so it runs on a
        // thread of its own while the address is released.
        let (hostVeth, ifName, netns, containerID) = (w.hostVeth, r.ifName, r.netns, r.containerID)
        let removal = OwnThread.start {
            try timer.measure("remove the veth") {
                try PodDataplane().remove(hostVeth: hostVeth, podInterface: ifName, netns: netns, containerID: containerID)
            }
        }
        var released: CNIError?
        do {
            let ipam = try await timer.measure("read the Node's podCIDR") { () async throws(CNIError) in try await resolvedIPAM(r.config, store) }
            try await timer.measure("IPAM DEL") { () async throws(CNIError) in try await delegate(r.config, paths: r.paths, store: store).del(r.config, ipam: ipam) }
        } catch {
            released = error
        }
        do {
            try removal.wait()
        } catch {
            throw CNIError.wrapping(error, "remove \(r.ifName) / \(w.hostVeth)")
        }
        if let released { throw released }
        do { try await timer.measure("wait for the Pod annotation") { try await annotation?.value } } catch { throw CNIError.wrapping(error, "clear the Pod's addresses") }
    }

    /// Blanks podIP/podIPs unless a newer sandbox has written its own container ID; a Pod that
    /// is gone needs nothing.
    private func clearPod(_ store: PluginDatastore, _ ns: String, _ pod: String, containerID: String) async throws(CNIError) {
        // Usually this sandbox's ID is the recorded one: one JSON patch that tests it. A failed
        // test (another, empty or no ID), an agent that refuses JSON patches (415) or any other
        // API answer falls back to reading the Pod; not found needs nothing.
        do {
            try await store.api().applyJSONPatch(Pod.self, name: pod, namespace: ns, jsonPatch: PodAnnotations.delJSONPatch(containerID: containerID))
            return
        } catch KubeError.notFound {
            return
        } catch KubeError.transport(let message) {
            throw CNIError.wrapping(KubeError.transport(message), "clear the addresses of Pod \(ns)/\(pod)")
        } catch {}
        do {
            let current = try await store.api().getJSON(Pod.self, name: pod, namespace: ns)
            guard PodAnnotations.delApplies(to: PodAnnotations.of(current), containerID: containerID) else { return }
        } catch KubeError.notFound {
            return
        } catch {
            throw CNIError.wrapping(error, "clear the addresses of Pod \(ns)/\(pod)")
        }
        try await patchPod(store, ns, pod, PodAnnotations.delPatch(), "clear the addresses of", ignoreMissing: true)
    }

    private func patchPod(_ store: PluginDatastore, _ ns: String, _ pod: String, _ patch: JSONValue, _ doing: String,
                          ignoreMissing: Bool = false) async throws(CNIError) {
        do {
            try await store.api().applyMergePatch(Pod.self, name: pod, namespace: ns, mergePatch: patch)
        } catch KubeError.notFound where ignoreMissing {
        } catch {
            throw CNIError.wrapping(error, "\(doing) Pod \(ns)/\(pod)")
        }
    }

    // MARK: CHECK

    func check(_ r: AttachmentRequest) async throws(CNIError) {
        let settings = try PluginSettings.read(r.config)
        let w = Workload(r, prefix: settings.interfacePrefix)
        guard let prev = r.config.prevResult, let netns = r.netns else {
            throw CNIError(.invalidNetworkConfig, "invalid network config: prevResult and CNI_NETNS are required for CHECK")
        }
        let expected = try PodNetworkPlan.make(hostVeth: w.hostVeth, podInterface: r.ifName, netns: netns,
                                               mtu: r.config.effectiveMTU,
                                               ipam: PodNetworkCheck.podIPs(of: prev, ifName: r.ifName),
                                               felixOwnsRoutes: settings.felixOwnsRoutes)
        let observed: ObservedPod
        do { observed = try ObservedPod.read(expected) } catch { throw CNIError.wrapping(error, "read the pod's interfaces") }
        let problems = PodNetworkCheck.problems(expected: expected, observed: observed, containerID: r.containerID)
        if !problems.isEmpty {
            throw CNIError(.dataplaneFailure, "CHECK failed for \(r.containerID): " + problems.joined(separator: "; "))
        }
        let store = PluginDatastore(config: r.config, environment: environment)
        try await delegate(r.config, paths: r.paths, store: store).check(r.config, ipam: try await resolvedIPAM(r.config, store))
    }
}
