import Core
import Foundation

/// calico-ipam's side of the agent's IPAM endpoint: one request instead of the ~10 (ADD) or
/// ~6 (DEL) per-object requests, when the plugin reaches the API through the agent's socket.
enum AgentIPAMClient {
    /// Sends `r` to the agent behind `api`. Nil when `api` is not the agent's socket or the
    /// agent does not serve the endpoint (an older agent: 403 or 404), so the caller does the
    /// work itself through per-object requests. A transport failure (the agent died) throws
    /// `KubeError.transport` (the plugin's code 11); an IPAM refusal comes back `.failed`
    /// and is thrown here as the same CNIError the direct path gives.
    static func send(_ r: AgentIPAMWire.Request, assign: Bool, via api: any KubeAPI) async throws -> AgentIPAMWire.Outcome? {
        guard let client = api as? KubeClient, client.viaAgent else { return nil }
        let path = assign ? AgentIPAMWire.assignPath : AgentIPAMWire.releasePath
        let (status, body) = try await client.raw(method: "POST", path: path, body: AgentIPAMWire.encode(r), contentType: "application/json")
        let outcome: AgentIPAMWire.Outcome?
        do {
            outcome = try AgentIPAMWire.decodeOutcome(status: status, body: body, assign: assign)
        } catch {
            throw CNIError(.tryAgainLater, "calico-ipam \(assign ? "ADD" : "DEL") through the calico-node agent: \(error)")
        }
        if case .failed(let e)? = outcome { throw e }
        return outcome
    }
}
