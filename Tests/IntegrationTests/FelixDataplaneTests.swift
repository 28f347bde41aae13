import Core
import Foundation
import Policy
import XCTest

/// Felix against the real kernel in network namespaces: routes and sysctls of local endpoints,
/// Calico policy ordering, bad input, and a restart that neither opens nor breaks anything. Root.
final class FelixDataplaneTests: XCTestCase {
    typealias Ref = FelixTestCluster.PodRef
    private var cluster: FelixTestCluster!
    private let a = Ref(namespace: "fa", name: "a"), b = Ref(namespace: "fa", name: "b"), c = Ref(namespace: "fa", name: "c")

    override func setUp() async throws {
        guard getuid() == 0 else { throw DevServerError("needs root for network namespaces and nftables: run the tests as root") }
        cluster = try FelixTestCluster(tag: "fd")
        try await cluster.ensureNamespace("fa")
        try await cluster.addPod(namespace: "fa", name: "a", ip: "10.78.0.1", labels: ["pod": "a"])
        try await cluster.addPod(namespace: "fa", name: "b", ip: "10.78.0.2", labels: ["pod": "b"])
        try await cluster.addPod(namespace: "fa", name: "c", ip: "10.78.0.3", labels: ["pod": "c"])
    }

    override func tearDown() async throws {
        await cluster?.tearDown()
        cluster = nil
    }

    @discardableResult private func ipNode(_ args: [String]) throws -> String { try KernelFixture.ip(cluster.node, args) }

    private func sysctl(_ key: String) throws -> String {
        try KernelFixture.run("/usr/sbin/ip", ["netns", "exec", KernelFixture.name(cluster.node), "sysctl", "-n", key])
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testRoutesSysctlsAndConvergenceWhenInterfacesComeAndGo() async throws {
        // A foreign route felix must never touch.
        let bIface = WorkloadEndpoint.hostInterfaceName(namespace: "fa", pod: "b")
        try ipNode(["route", "add", "10.78.9.9/32", "dev", bIface, "proto", "static"])
        cluster.startFelix()
        try await cluster.waitFelixReady()
        let routes = try ipNode(["route", "show", "proto", "81"])
        for (pod, ip) in [("a", "10.78.0.1"), ("b", "10.78.0.2"), ("c", "10.78.0.3")] {
            let iface = WorkloadEndpoint.hostInterfaceName(namespace: "fa", pod: pod)
            XCTAssertTrue(routes.contains("\(ip) dev \(iface) scope link"), routes)
            XCTAssertEqual(try sysctl("net.ipv4.conf.\(iface).proxy_arp"), "1")
            XCTAssertEqual(try sysctl("net.ipv4.neigh.\(iface).proxy_delay"), "0")
            XCTAssertEqual(try sysctl("net.ipv4.conf.\(iface).route_localnet"), "1")
        }
        // Pods reach each other through the node: proxy ARP and the routes work.
        XCTAssertTrue(try cluster.canReach(a, b))
        XCTAssertTrue(try cluster.canReach(c, a, port: 81, proto: .udp))

        // The interface goes away and comes back (a pod restarted in place): converged again.
        let aIface = WorkloadEndpoint.hostInterfaceName(namespace: "fa", pod: "a")
        let aNetns = KernelFixture.name(cluster.pods[a]!.netns)
        try ipNode(["link", "del", aIface])
        try await Task.sleep(for: .milliseconds(300))
        XCTAssertFalse(try ipNode(["route", "show", "proto", "81"]).contains("10.78.0.1 "))
        try ipNode(["link", "add", aIface, "type", "veth", "peer", "name", "eth0", "netns", aNetns])
        try ipNode(["link", "set", aIface, "up"])
        try KernelFixture.ip(cluster.pods[a]!.netns, ["addr", "add", "10.78.0.1/32", "dev", "eth0"])
        try KernelFixture.ip(cluster.pods[a]!.netns, ["link", "set", "eth0", "up"])
        try KernelFixture.ip(cluster.pods[a]!.netns, ["route", "add", "169.254.1.1", "dev", "eth0", "scope", "link"])
        try KernelFixture.ip(cluster.pods[a]!.netns, ["route", "add", "default", "via", "169.254.1.1", "dev", "eth0"])
        let deadline = Date().addingTimeInterval(5)
        while !(try ipNode(["route", "show", "proto", "81"]).contains("10.78.0.1 dev \(aIface)")), Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTAssertTrue(try ipNode(["route", "show", "proto", "81"]).contains("10.78.0.1 dev \(aIface)"))
        XCTAssertEqual(try sysctl("net.ipv4.conf.\(aIface).proxy_arp"), "1")
        XCTAssertTrue(try cluster.canReach(b, a))

        // The pod is deleted: its route goes, the foreign one stays.
        try await cluster.change { try await cluster.removeKubeAPIPod(c) }
        let after = try ipNode(["route", "show"])
        XCTAssertFalse(after.contains("10.78.0.3 "), after)
        XCTAssertTrue(after.contains("10.78.9.9 dev \(bIface) proto static"), after)
    }

    func testCalicoPolicyOrderDenyBeforeKubernetesAllowAndBadPolicy() async throws {
        cluster.startFelix()
        try await cluster.waitFelixReady()
        try await cluster.change {
            _ = try await cluster.api.create(K8sNetworkPolicy(metadata: ObjectMeta(name: "allow-all-to-a", namespace: "fa"), spec: K8sNetworkPolicySpec(
                podSelector: LabelSelector(matchLabels: ["pod": "a"]), ingress: [K8sNetworkPolicySpec.IngressRule()])))
            // Order 10 < 1000: Calico's deny from c applies first.
            _ = try await cluster.api.create(GlobalNetworkPolicy(metadata: ObjectMeta(name: "deny-c"), spec: CalicoPolicySpec(
                order: 10, selector: "pod == 'a'", types: ["Ingress"],
                ingress: [CalicoRule(action: "Deny", source: EntityRule(selector: "pod == 'c'"))])))
        }
        XCTAssertTrue(try cluster.canReach(b, a))
        XCTAssertFalse(try cluster.canReach(c, a))

        // A bad policy is reported and changes nothing else.
        try await cluster.change {
            _ = try await cluster.api.create(CalicoNetworkPolicy(metadata: ObjectMeta(name: "broken", namespace: "fa"), spec: CalicoPolicySpec(
                selector: "pod in {'b'", types: ["Ingress"])))
        }
        XCTAssertTrue(try cluster.canReach(b, a))
        XCTAssertFalse(try cluster.canReach(c, a))
        XCTAssertTrue(try cluster.canReach(a, b), "the broken policy must not isolate b")
        let metrics = String(decoding: cluster.metrics.emitToBuffer(), as: UTF8.self)
        XCTAssertTrue(metrics.contains("felix_policy_errors 1"), metrics)
    }

    /// The packets the pod's own chain (`cali-tw-` or `cali-fw-`) counted as allowed (its first
    /// rule) or as allowed by no policy or profile (its second), read back with `nft -j`.
    private func verdictPackets(_ pod: Ref, ingress: Bool, allowed: Bool) throws -> Int {
        let iface = WorkloadEndpoint.hostInterfaceName(namespace: pod.namespace, pod: pod.name)
        let chain = RenderNames.endpointChain(iface, ingress: ingress)
        let json = try KernelFixture.run("/usr/sbin/ip", ["netns", "exec", KernelFixture.name(cluster.node),
                                                          "nft", "-j", "list", "chain", "inet", RenderNames.table, chain])
        let root = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let counts = (root?["nftables"] as? [Any] ?? []).compactMap { item -> Int? in
            guard let rule = (item as? [String: Any])?["rule"] as? [String: Any] else { return nil }
            for case let expr as [String: Any] in rule["expr"] as? [Any] ?? [] {
                if let counter = expr["counter"] as? [String: Any], let packets = counter["packets"] as? Int { return packets }
            }
            return nil
        }
        guard counts.count == 2 else { throw DevServerError("\(chain): expected two counted rules: \(json)") }
        return counts[allowed ? 0 : 1]
    }

    private func ping(_ from: Ref, _ to: Ref) -> Bool {
        (try? KernelFixture.run("/usr/sbin/ip", ["netns", "exec", KernelFixture.name(cluster.pods[from]!.netns),
                                                 "ping", "-c", "1", "-W", "1", cluster.pods[to]!.ip])) != nil
    }

    /// A pod whose veth exists before felix knows the pod (the CNI plugin's host route and
    /// proxy ARP in place) sends and receives nothing until its Pod arrives; then it is policed
    /// like any other (its namespace's profile allows).
    func testUnknownWorkloadInterfaceIsDroppedUntilItsPodIsKnown() async throws {
        let d = Ref(namespace: "fa", name: "d")
        try await cluster.addPod(namespace: "fa", name: "d", ip: "10.78.0.4", labels: ["pod": "d"], register: false)
        let iface = WorkloadEndpoint.hostInterfaceName(namespace: "fa", pod: "d")
        try ipNode(["route", "add", "10.78.0.4/32", "dev", iface, "scope", "link"])
        _ = try KernelFixture.run("/usr/sbin/ip", ["netns", "exec", KernelFixture.name(cluster.node), "sysctl", "-w", "net.ipv4.conf.\(iface).proxy_arp=1"])
        cluster.startFelix()
        try await cluster.waitFelixReady()
        XCTAssertTrue(try cluster.canReach(b, a), "known pods")
        XCTAssertFalse(try cluster.canReach(d, a), "from an interface felix does not know")
        XCTAssertFalse(try cluster.canReach(a, d), "to an interface felix does not know")
        try await cluster.change {
            try await cluster.registerPod(namespace: "fa", name: "d", ip: "10.78.0.4", labels: ["pod": "d"])
        }
        XCTAssertTrue(try cluster.canReach(d, a), "known now: the profile allows")
        XCTAssertTrue(try cluster.canReach(a, d))
    }

    func testCalicoPassToProfilesAndICMPDeny() async throws {
        cluster.startFelix()
        try await cluster.waitFelixReady()
        XCTAssertTrue(ping(b, a))
        try await cluster.change {
            // Kubernetes default deny for a (tier default, order 1000) ...
            _ = try await cluster.api.create(K8sNetworkPolicy(metadata: ObjectMeta(name: "deny-a", namespace: "fa"), spec: K8sNetworkPolicySpec(
                podSelector: LabelSelector(matchLabels: ["pod": "a"]))))
            // ... but c's traffic passes the rest of the tier (order 10) and the namespace profile allows it.
            _ = try await cluster.api.create(GlobalNetworkPolicy(metadata: ObjectMeta(name: "pass-c"), spec: CalicoPolicySpec(
                order: 10, selector: "pod == 'a'", types: ["Ingress"],
                ingress: [CalicoRule(action: "Pass", source: EntityRule(selector: "pod == 'c'"))])))
            // And nobody may ping b, though TCP to b stays open.
            _ = try await cluster.api.create(GlobalNetworkPolicy(metadata: ObjectMeta(name: "no-ping-b"), spec: CalicoPolicySpec(
                order: 20, selector: "pod == 'b'", types: ["Ingress"],
                ingress: [CalicoRule(action: "Deny", protocol: .string("ICMP"), icmp: CalicoRule.ICMPMatch(type: 8)),
                          CalicoRule(action: "Allow")])))
        }
        XCTAssertTrue(try cluster.canReach(c, a), "Pass skips the rest of the tier: the profile allows")
        XCTAssertFalse(try cluster.canReach(b, a), "the Kubernetes default deny applies to b")
        XCTAssertTrue(try cluster.canReach(a, b))
        XCTAssertFalse(ping(a, b), "ICMP echo to b is denied")
        XCTAssertTrue(ping(b, c), "c has no policy")
        // Each endpoint counts its own verdicts: a allowed c and dropped b for want of an allow;
        // b's ICMP was dropped by a Deny rule in its policy's chain, not counted as unallowed.
        XCTAssertGreaterThan(try verdictPackets(a, ingress: true, allowed: true), 0)
        XCTAssertGreaterThan(try verdictPackets(a, ingress: true, allowed: false), 0)
        XCTAssertEqual(try verdictPackets(b, ingress: true, allowed: false), 0)
        XCTAssertGreaterThan(try verdictPackets(c, ingress: false, allowed: true), 0, "c's egress allowed it")
        XCTAssertEqual(try verdictPackets(c, ingress: false, allowed: false), 0)
    }

    func testRestartKeepsEstablishedFlowAndNeverAllowsDenied() async throws {
        cluster.startFelix()
        try await cluster.waitFelixReady()
        // Only a may talk to b; c may not.
        try await cluster.change {
            _ = try await cluster.api.create(K8sNetworkPolicy(metadata: ObjectMeta(name: "only-a", namespace: "fa"), spec: K8sNetworkPolicySpec(
                podSelector: LabelSelector(matchLabels: ["pod": "b"]),
                ingress: [K8sNetworkPolicySpec.IngressRule(from: [K8sNetworkPolicySpec.Peer(podSelector: LabelSelector(matchLabels: ["pod": "a"]))])])))
        }
        XCTAssertTrue(try cluster.canReach(a, b))
        XCTAssertFalse(try cluster.canReach(c, b))

        // One long TCP flow a->b and a stream of denied connection attempts c->b, across a restart.
        let flow = try cluster.runInPod(a, script: FelixDataplaneTests.flowScript, args: ["10.78.0.2", "80", "6"])
        let probes = try cluster.runInPod(c, script: FelixDataplaneTests.deniedScript, args: ["10.78.0.2", "80", "6"])
        try await Task.sleep(for: .seconds(1))
        await cluster.stopFelix()
        try await Task.sleep(for: .milliseconds(500))
        cluster.startFelix()
        try await cluster.waitFelixReady()
        let flowOut = try await cluster.wait(flow)
        let probeOut = try await cluster.wait(probes)
        XCTAssertTrue(flowOut.hasPrefix("ok"), "established flow broke: \(flowOut)")
        XCTAssertTrue(probeOut.hasPrefix("allowed 0 "), "a denied connection got through: \(probeOut)")
        XCTAssertTrue(try cluster.canReach(a, b))
        XCTAssertFalse(try cluster.canReach(c, b))
    }

    /// flow.py IP PORT SECONDS: one connection, a byte echoed every 20 ms; "ok N" or "broken ...".
    static let flowScript = """
    import socket, sys, time
    ip, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    s = socket.create_connection((ip, port), timeout=2)
    n = 0; end = time.time() + secs
    try:
        while time.time() < end:
            s.sendall(b"y")
            if s.recv(1) != b"y": raise Exception("bad echo")
            n += 1; time.sleep(0.02)
        print("ok", n)
    except Exception as e:
        print("broken after", n, e)
    """

    /// denied.py IP PORT SECONDS: new connections every 20 ms; "allowed N of M".
    static let deniedScript = """
    import socket, sys, time
    ip, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    ok = 0; total = 0; end = time.time() + secs
    while time.time() < end:
        total += 1
        try:
            s = socket.create_connection((ip, port), timeout=0.1); s.close(); ok += 1
        except Exception:
            pass
        time.sleep(0.02)
    print("allowed", ok, "of", total)
    """
}
