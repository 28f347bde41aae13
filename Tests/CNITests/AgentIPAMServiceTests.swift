@testable import CNI
import Core
import IPAM
import XCTest

/// The agent's IPAM endpoint against the in-memory API server: the same objects and errors as
/// calico-ipam's direct path, and serialised assignments under concurrency.
final class AgentIPAMServiceTests: XCTestCase {
    private var lockFile: String!

    override func setUp() {
        lockFile = NSTemporaryDirectory() + "agent-ipam-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).lock"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: lockFile)
    }

    private func api(pool cidr: String, blockSize: Int) async throws -> InMemoryKubeAPI {
        let api = InMemoryKubeAPI()
        _ = try await api.create(IPPool(metadata: ObjectMeta(name: "pool-a"), spec: IPPoolSpec(cidr: cidr, blockSize: blockSize)))
        return api
    }

    private func request(_ id: String, ipam: JSONValue = .object(["type": .string("calico-ipam")])) -> AgentIPAMWire.Request {
        AgentIPAMWire.Request(containerID: id, node: "node-a", namespace: "default", pod: "pod-\(id)", ipam: ipam,
                              requestedIPs: [], lockFile: lockFile)
    }

    private static func viaAgent(_ service: AgentIPAMService, _ r: AgentIPAMWire.Request, assign: Bool) async throws -> AgentIPAMWire.Outcome? {
        let a = await service.answer(path: assign ? AgentIPAMWire.assignPath : AgentIPAMWire.releasePath, body: AgentIPAMWire.encode(r))
        return try AgentIPAMWire.decodeOutcome(status: a.status, body: a.body, assign: assign)
    }

    private func direct(_ r: AgentIPAMWire.Request, _ api: any KubeAPI) async throws -> [IPNet] {
        try await CalicoIPAMPlugin.assign(r, api: api, lock: { try HostLock(path: self.lockFile) })
    }

    /// Every IPAM object by name, minus what differs by time or store (timestamps, resourceVersion, uid).
    private struct Snapshot: Equatable {
        var blocks: [String: IPAMBlockSpec] = [:]
        var affinities: [String: BlockAffinitySpec] = [:]
        var handles: [String: IPAMHandleSpec] = [:]
    }

    private func objects(_ api: InMemoryKubeAPI) async throws -> Snapshot {
        var out = Snapshot()
        for var b in try await api.list(IPAMBlock.self).items {
            b.spec.affinityClaimTime = b.spec.affinityClaimTime == nil ? nil : "set"
            b.spec.attributes = b.spec.attributes.map { a in
                var a = a
                if a.secondary?["timestamp"] != nil { a.secondary?["timestamp"] = "set" }
                return a
            }
            out.blocks[b.metadata.name] = b.spec
        }
        for a in try await api.list(BlockAffinity.self).items { out.affinities[a.metadata.name] = a.spec }
        for h in try await api.list(IPAMHandle.self).items { out.handles[h.metadata.name] = h.spec }
        return out
    }

    func testTheAgentMakesTheObjectsTheDirectPathMakes() async throws {
        let viaAPI = try await api(pool: "10.0.0.0/24", blockSize: 29)
        let directAPI = try await api(pool: "10.0.0.0/24", blockSize: 29)
        let service = AgentIPAMService(api: viaAPI, environment: [:])
        for id in ["c1", "c2", "c3"] {
            let agent = try await Self.viaAgent(service, request(id), assign: true)
            let mine = try await direct(request(id), directAPI)
            XCTAssertEqual(agent, .assigned(mine))
        }
        // A repeated ADD returns what the handle holds.
        let again = try await Self.viaAgent(service, request("c2"), assign: true)
        XCTAssertEqual(again, .assigned([IPNet(parsing: "10.0.0.1/32")!]))
        let agentObjects = try await objects(viaAPI)
        let directObjects = try await objects(directAPI)
        XCTAssertEqual(agentObjects, directObjects)
        XCTAssertEqual(agentObjects.handles.count, 3)
        XCTAssertEqual(agentObjects.blocks.count, 1)
        XCTAssertEqual(agentObjects.affinities.values.map(\.state), ["confirmed"])

        let released = try await Self.viaAgent(service, request("c2"), assign: false)
        XCTAssertEqual(released, .released)
        try await CalicoIPAMPlugin.release(request("c2"), api: directAPI, lock: { try HostLock(path: self.lockFile) })
        let agentAfter = try await objects(viaAPI)
        let directAfter = try await objects(directAPI)
        XCTAssertEqual(agentAfter, directAfter)
        XCTAssertNil(agentAfter.handles["k8s-pod-network.c2"])
        XCTAssertFalse(agentAfter.blocks.values.contains { $0.attributes.contains { $0.handleID == "k8s-pod-network.c2" } })
        // DEL is idempotent.
        let twice = try await Self.viaAgent(service, request("c2"), assign: false)
        XCTAssertEqual(twice, .released)
    }

    func testErrorsAreTheDirectPathsCNIErrors() async throws {
        let viaAPI = try await api(pool: "10.0.0.0/30", blockSize: 30)
        let directAPI = try await api(pool: "10.0.0.0/30", blockSize: 30)
        let service = AgentIPAMService(api: viaAPI, environment: [:])
        for i in 0..<4 {
            _ = try await Self.viaAgent(service, request("f\(i)"), assign: true)
            _ = try await direct(request("f\(i)"), directAPI)
        }
        // The pool is full: the same code 11 and message, and nothing held for the request.
        let agent = try await Self.viaAgent(service, request("over"), assign: true)
        var directError: CNIError?
        do { _ = try await direct(request("over"), directAPI) } catch { directError = CalicoIPAMPlugin.cniError(error, command: .add) }
        let expected = try XCTUnwrap(directError)
        XCTAssertEqual(expected.code, ErrorCode.tryAgainLater.rawValue)
        XCTAssertTrue(expected.msg.contains("exhausted"), expected.msg)
        XCTAssertEqual(agent, .failed(expected))
        let handles = try await viaAPI.list(IPAMHandle.self).items.map(\.metadata.name)
        XCTAssertFalse(handles.contains("k8s-pod-network.over"), "\(handles)")

        // A malformed ipam section: the parser's code 7, identical on both paths.
        let bad = request("bad", ipam: .object(["assign_ipv4": .string("maybe")]))
        let agentBad = try await Self.viaAgent(service, bad, assign: true)
        do { _ = try await direct(bad, directAPI); XCTFail("accepted") } catch {
            XCTAssertEqual(agentBad, .failed(CalicoIPAMPlugin.cniError(error, command: .add)))
        }
        guard case .failed(let e)? = agentBad else { return XCTFail("\(String(describing: agentBad))") }
        XCTAssertEqual(e.code, 7)

        // A body that is not a request, and an endpoint that does not exist.
        let garbage = await service.answer(path: AgentIPAMWire.assignPath, body: Data("{}".utf8))
        XCTAssertEqual(garbage.status, 400)
        let unknown = await service.answer(path: "/calico-agent/v1/ipam/borrow", body: AgentIPAMWire.encode(request("x")))
        XCTAssertEqual(unknown.status, 404)
    }

    func testParallelAssignmentsAreDistinctAndReleaseLeavesNothing() async throws {
        let viaAPI = try await api(pool: "10.1.0.0/24", blockSize: 28)
        let service = AgentIPAMService(api: viaAPI, environment: ["CALICO_IPAM_LOCK_FILE": lockFile])
        let ids = (0..<20).map { "p\($0)" }
        let outcomes = try await withThrowingTaskGroup(of: AgentIPAMWire.Outcome?.self) { group in
            for id in ids {
                var r = request(id)
                r.lockFile = nil  // the agent's own lock file
                group.addTask { try await Self.viaAgent(service, r, assign: true) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let addresses = outcomes.compactMap { o -> IPNet? in if case .assigned(let ips)? = o { return ips.first } else { return nil } }
        XCTAssertEqual(addresses.count, 20)
        XCTAssertEqual(Set(addresses).count, 20, "distinct addresses")
        XCTAssertTrue(FileManager.default.fileExists(atPath: lockFile), "the agent took its host lock file")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in ids {
                let r = request(id)
                group.addTask { _ = try await Self.viaAgent(service, r, assign: false) }
            }
            try await group.waitForAll()
        }
        let handlesLeft = try await viaAPI.list(IPAMHandle.self).items.count
        XCTAssertEqual(handlesLeft, 0)
        let held = try await viaAPI.list(IPAMBlock.self).items.flatMap { $0.spec.allocations.compactMap { $0 } }
        XCTAssertEqual(held, [])
    }
}
