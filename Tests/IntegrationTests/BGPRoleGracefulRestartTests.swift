import Core
import Foundation
import Routing
import XCTest

/// calico-node's own restart as users run it (RFC 4724 restarting side, the BGP role rather than
/// a bare speaker), root, in network namespaces (`BGPLab`) against bird2: the role is stopped
/// the way SIGTERM stops it and a new role starts. Sampled every ~100 ms from the stop until the
/// new role has settled: our pod CIDR never leaves BIRD's table and BIRD's route never leaves our
/// kernel; the pod CIDR we no longer have is gone from BIRD after our End-of-RIB; the route BIRD
/// stopped sending while we were down leaves our kernel only after BIRD's End-of-RIB. With
/// graceful restart on stop turned off, BIRD drops our routes at the stop.
final class BGPRoleGracefulRestartTests: XCTestCase {
    let kept = "10.245.7.0/24", dropped = "10.245.8.0/24"
    let birdKept = "172.31.1.0/24", birdStale = "172.31.2.0/24"
    let nodeName = "grnode"
    var tasks: [Task<Void, Error>] = []

    override func setUpWithError() throws {
        guard getuid() == 0 else { throw DevServerError("needs root (network namespaces)") }
    }

    override func tearDown() {
        for t in tasks { t.cancel() }
        tasks = []
    }

    /// The datastore: this node (address in `ours`, two pod CIDRs) and BIRD as a global BGPPeer.
    func datastore(_ lab: BGPLab) async throws -> InMemoryKubeAPI {
        let api = InMemoryKubeAPI()
        _ = try await api.create(K8sNode(metadata: ObjectMeta(name: nodeName, annotations: [NodeBGPSpec.ipv4AddressAnnotation: "\(lab.ourV4)/24"]),
                                         spec: K8sNodeSpec(podCIDRs: [kept, dropped])))
        _ = try await api.create(BGPPeer(metadata: ObjectMeta(name: "bird"), spec: BGPPeerSpec(peerIP: lab.theirV4, asNumber: 65002)))
        return api
    }

    func options(_ lab: BGPLab, gracefulRestartOnStop: Bool) -> BGPRoleOptions {
        // startupGraceSeconds well above the test's waits: only End-of-RIB can end the wait for stale routes.
        var o = BGPRoleOptions(networkNamespacePath: lab.namespacePath, holdTime: 9, connectRetrySeconds: 1,
                               statusSeconds: 0.1, startupGraceSeconds: 60)
        o.gracefulRestartOnStop = gracefulRestartOnStop
        o.restartStatePath = lab.dir + "/state/bgp-graceful-restart"
        return o
    }

    func start(_ role: BGPRole) -> Task<Void, Error> {
        let t = Task { try await role.run() }
        tasks.append(t)
        return t
    }

    /// Stops a role as SIGTERM does: its task is cancelled and `run` returns.
    func stop(_ task: Task<Void, Error>) async {
        task.cancel()
        _ = try? await task.value
    }

    func birdTable(_ bird: BirdRestartablePeer) -> String {
        (try? sh("/usr/sbin/birdc", "-s", bird.control, "show", "route")) ?? ""
    }

    /// Role up with BIRD: our pod CIDRs in BIRD, BIRD's routes in our kernel.
    func establish(_ lab: BGPLab, _ bird: BirdRestartablePeer, _ role: BGPRole, kernel: OurKernelRoutes) async {
        await eventually(30, "BIRD has both our pod CIDRs and our kernel both of BIRD's routes") {
            let t = self.birdTable(bird), k = kernel.read()
            return t.contains(self.kept) && t.contains(self.dropped)
                && k[self.birdKept] == lab.theirV4 && k[self.birdStale] == lab.theirV4
        }
        await eventually(10, "session Established") { await role.peerTable().peers.first?.sessionState == "Established" }
    }

    /// BIRD sending two routes, the role up with it; runs `body` with the lab torn down after.
    func withRoleAndBird(gracefulRestartOnStop: Bool,
                         _ body: (BGPLab, BirdRestartablePeer, InMemoryKubeAPI, OurKernelRoutes, BGPRoleOptions, Task<Void, Error>) async throws -> Void) async throws {
        let lab = try BGPLab()
        defer { lab.tearDown() }
        let bird = BirdRestartablePeer(lab)
        try bird.start(v4: [birdKept, birdStale], v6: [], restarting: false)
        let api = try await datastore(lab)
        let kernel = try OurKernelRoutes(lab)
        let options = options(lab, gracefulRestartOnStop: gracefulRestartOnStop)
        let role = BGPRole(api: api, nodeName: nodeName, options: options)
        let task = start(role)
        await establish(lab, bird, role, kernel: kernel)
        try await body(lab, bird, api, kernel, options, task)
    }

    func testRoleRestartKeepsRoutesBothWaysAndCleansUpAtEndOfRIB() async throws {
        try await withRoleAndBird(gracefulRestartOnStop: true) { lab, bird, api, kernel, options, firstTask in
            XCTAssertTrue(bird.gracefulRestartView().negotiated, bird.gracefulRestartView().text)
            await stop(firstTask)
            let stopped = Date()
            XCTAssertTrue(FileManager.default.fileExists(atPath: options.restartStatePath!), "the graceful stop is recorded")
            var birdMissing: [String] = [], kernelMissing: [String] = []
            func sample() -> (bird: String, kernel: [String: String]) {
                let t = birdTable(bird), k = kernel.read()
                let at = String(format: "%.2fs", Date().timeIntervalSince(stopped))
                if !t.contains(kept) { birdMissing.append("\(kept) at \(at)") }
                if k[birdKept] != lab.theirV4 { kernelMissing.append("\(birdKept) at \(at)") }
                return (t, k)
            }
            // While we are down: BIRD keeps our routes (graceful restart active), and stops sending one
            // of its own, which our kernel cannot hear about yet.
            while Date().timeIntervalSince(stopped) < 1.5 {
                _ = sample()
                try await Task.sleep(nanoseconds: 100_000_000)
            }
            let birdState = bird.protocolState()
            XCTAssertTrue(birdState.contains("Neighbor graceful restart active"), birdState)
            try bird.config(v4: [birdKept], v6: []).write(toFile: lab.dir + "/bird.conf", atomically: true, encoding: .utf8)
            _ = try sh("/usr/sbin/birdc", "-s", bird.control, "configure")
            // The node lost one pod CIDR meanwhile.
            var node = try await api.get(K8sNode.self, name: nodeName, namespace: nil)
            node.spec = K8sNodeSpec(podCIDRs: [kept])
            _ = try await api.update(node)

            let second = BGPRole(api: api, nodeName: nodeName, options: options)
            let restarted = Date()
            _ = start(second)
            var established: Date?, staleGone: Date?, droppedGone: Date?
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline, staleGone == nil || droppedGone == nil {
                let s = sample()
                if established == nil, await second.peerTable().peers.first?.sessionState == "Established" { established = Date() }
                if staleGone == nil, s.kernel[birdStale] == nil { staleGone = Date() }
                if droppedGone == nil, !s.bird.contains(dropped) { droppedGone = Date() }
                try await Task.sleep(nanoseconds: 100_000_000)
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: options.restartStatePath!), "the new start consumed the record")
            XCTAssertEqual(birdMissing, [], "BIRD kept our pod CIDR throughout our restart")
            XCTAssertEqual(kernelMissing, [], "our kernel kept BIRD's route throughout our restart")
            guard let established, let staleGone, let droppedGone else {
                return XCTFail("after the restart: established \(established.map { "\($0.timeIntervalSince(restarted))" } ?? "never"), "
                               + "stale kernel route gone \(staleGone != nil), dropped pod CIDR gone from BIRD \(droppedGone != nil)")
            }
            // Our End-of-RIB follows the session's establishment; BIRD's End-of-RIB (not the 60 s
            // startup grace) is what let the stale kernel route go.
            XCTAssertGreaterThanOrEqual(droppedGone.timeIntervalSince(established), -0.2, "the dropped CIDR went at our End-of-RIB")
            XCTAssertGreaterThanOrEqual(staleGone.timeIntervalSince(established), -0.2, "the stale route stayed until the session was back")
            XCTAssertLessThan(staleGone.timeIntervalSince(established), 2.5,
                              "and went at BIRD's End-of-RIB, not at the time limit (nor 3 s after Established)")
            // BIRD saw the R bit in the new OPEN (its capability dump says "Restart recovery").
            let neighbor = bird.protocolState().components(separatedBy: "Neighbor capabilities").dropFirst().first ?? ""
            XCTAssertTrue(neighbor.contains("Restart recovery"), "we came back as a restarting speaker:\n\(neighbor)")
            XCTAssertTrue(birdTable(bird).contains(kept))
            XCTAssertEqual(kernel.read()[birdKept], lab.theirV4)
            print(String(format: "role graceful restart: established %.2fs, BIRD's stale route gone %.2fs, our dropped CIDR gone from BIRD %.2fs after the new start",
                         established.timeIntervalSince(restarted), staleGone.timeIntervalSince(restarted), droppedGone.timeIntervalSince(restarted)))
        }
    }

    func testWithoutGracefulRestartOnStopBirdDropsOurRoutesAtTheStop() async throws {
        try await withRoleAndBird(gracefulRestartOnStop: false) { lab, bird, _, kernel, options, task in
            await stop(task)
            await eventually(5, "BIRD drops our pod CIDRs at once") {
                let t = self.birdTable(bird)
                return !t.contains(self.kept) && !t.contains(self.dropped)
            }
            let birdState = bird.protocolState()
            XCTAssertFalse(birdState.contains("Neighbor graceful restart active"), birdState)
            XCTAssertTrue(birdState.contains("shutting down") || birdState.contains("Administrative shutdown"), "BIRD got our Cease:\n\(birdState)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: options.restartStatePath!), "nothing recorded")
            XCTAssertEqual(kernel.read()[birdKept], lab.theirV4, "kernel routes stay in place on stop (nothing flushed)")
        }
    }
}
