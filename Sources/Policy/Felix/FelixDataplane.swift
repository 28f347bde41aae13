import Core

/// Where felix's ruleset goes. `NFTProgrammer` in production; tests substitute a recorder.
public protocol FelixDataplane: Sendable {
    /// Brings the programmed ruleset to `ruleset` in one atomic batch. `changed` names what may
    /// differ from the previous successful program (nil: anything may); `deltas`, the elements
    /// that came and went in some of those sets (`NFTSetDelta`).
    func program(_ ruleset: NFTRuleset, changed: Set<String>?, deltas: [String: NFTSetDelta]) throws -> NFTPlan
    /// Forgets any cached view so that the next `program` reads the kernel again.
    func forget() throws
}

extension NFTProgrammer: FelixDataplane {
    public func program(_ ruleset: NFTRuleset, changed: Set<String>?, deltas: [String: NFTSetDelta]) throws -> NFTPlan {
        try apply(ruleset, changed: changed, deltas: deltas)
    }
    public func forget() throws { _ = try readProgrammed() }
}

/// Where felix's local endpoints' routes and sysctls go. `EndpointManager` in production.
public protocol FelixEndpointDataplane: Sendable {
    @discardableResult func sync(_ endpoints: [LocalEndpoint]) -> EndpointManager.SyncResult
    @discardableResult func resync() -> EndpointManager.SyncResult
}

extension EndpointManager: FelixEndpointDataplane {}
