import Core
import Foundation
import IPAM
import Synchronization

/// The calico-node agent's IPAM endpoint: runs calico-ipam's ADD and DEL (the very code of
/// `CalicoIPAMPlugin.assign` / `release`) on the agent's warm API client, so a plugin makes
/// one request instead of ~10. Serialised like the plugins: one assignment at a time in the
/// agent (a FIFO gate, so waiting never blocks a thread of the cooperative pool), each under
/// the same host lock file the plugins take, so a plugin on the direct path (agent
/// restarting) and the agent never work on the node's blocks at once. The resourceVersion
/// on every block write remains the guarantee that an address is never handed out twice.
public final class AgentIPAMService: Sendable {
    private let api: any KubeAPI
    private let lockPath: String
    private let gate = FIFOGate()

    /// `environment` gives the lock file when a request names none (CALICO_IPAM_LOCK_FILE).
    public init(api: any KubeAPI, environment: [String: String]) {
        self.api = api
        self.lockPath = HostLock.path(environment: environment)
    }

    /// The handler for `AgentAPIProxy.start(local:)`.
    public var local: AgentAPIRouting.Local {
        { [self] path, body in await answer(path: path, body: body) }
    }

    func answer(path: String, body: Data) async -> AgentAPIRouting.Answer {
        let assign: Bool
        switch path {
        case AgentIPAMWire.assignPath: assign = true
        case AgentIPAMWire.releasePath: assign = false
        default:
            return AgentAPIRouting.Answer(status: 404, body: AgentAPIStatus.body(code: 404, reason: "NotFound", message: "this calico-node agent serves no endpoint \(path.prefix(120))"))
        }
        let request: AgentIPAMWire.Request
        do { request = try AgentIPAMWire.decodeRequest(body) } catch {
            return AgentAPIRouting.Answer(status: 400, body: AgentAPIStatus.body(code: 400, reason: "BadRequest", message: error.description))
        }
        let (status, answer) = AgentIPAMWire.encode(await run(request, assign: assign))
        return AgentAPIRouting.Answer(status: status, body: answer)
    }

    func run(_ r: AgentIPAMWire.Request, assign: Bool) async -> AgentIPAMWire.Outcome {
        await gate.acquire()
        defer { gate.release() }
        let path = r.lockFile ?? lockPath
        do {
            if assign {
                return .assigned(try await CalicoIPAMPlugin.assign(r, api: api, lock: { try await Self.lock(path) }))
            }
            try await CalicoIPAMPlugin.release(r, api: api, lock: { try await Self.lock(path) })
            return .released
        } catch {
            return .failed(CalicoIPAMPlugin.cniError(error, command: assign ? .add : .del))
        }
    }

    /// The host lock, waited for on a thread of its own (flock blocks).
    static func lock(_ path: String) async throws -> HostLock {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try HostLock(path: path) }) }
        }
    }
}

/// One holder at a time, waiters served in arrival order; waiting suspends, never blocks.
final class FIFOGate: Sendable {
    private let state = Mutex<(busy: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func acquire() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.busy { s.waiters.append(c); return false }
                s.busy = true
                return true
            }
            if now { c.resume() }
        }
    }

    func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard !s.waiters.isEmpty else { s.busy = false; return nil }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }
}
