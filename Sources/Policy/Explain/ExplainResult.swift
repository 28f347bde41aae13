import Core

/// One thing the evaluator considered, in felix's order.
public struct ExplainStep: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// A policy rule matched (Allow, Deny, Pass or Log).
        case policyRule = "policy-rule"
        /// A policy selects the endpoint but none of its rules matched: on to the next policy.
        case policyNoMatch = "policy-no-match"
        /// A policy was skipped because an earlier one in its tier passed.
        case policySkipped = "policy-skipped"
        /// No policy of the tier allowed, denied or passed: the tier's default deny.
        case endOfTier = "end-of-tier"
        /// No policy selects the endpoint in this direction: its profiles decide.
        case noPolicy = "no-policy"
        case profileRule = "profile-rule"
        case profileNoMatch = "profile-no-match"
        /// No profile allowed it: dropped at the end of the endpoint's chain.
        case noProfileMatch = "no-profile-match"
        /// Something the evaluator could not know (a rule needing a source port none was given for).
        case note
    }

    public var kind: Kind
    public var tier: String?
    public var policy: String?
    public var profile: String?
    public var rule: Int?
    public var action: String?
    public var text: String

    public init(kind: Kind, tier: String? = nil, policy: String? = nil, profile: String? = nil, rule: Int? = nil,
                action: String? = nil, text: String) {
        self.kind = kind
        self.tier = tier
        self.policy = policy
        self.profile = profile
        self.rule = rule
        self.action = action
        self.text = text
    }
}

/// The verdict of one direction (egress from the source, ingress to the destination).
public struct ExplainDirection: Sendable, Hashable, Codable {
    public enum Direction: String, Sendable, Hashable, Codable { case egress, ingress }

    public var direction: Direction
    public var endpoint: String
    public var node: String
    public var allowed: Bool
    /// The step that decided: a rule, an end of tier, or the end of the profiles.
    public var decidedBy: ExplainStep
    public var trace: [ExplainStep]

    public init(direction: Direction, endpoint: String, node: String, allowed: Bool, decidedBy: ExplainStep, trace: [ExplainStep]) {
        self.direction = direction
        self.endpoint = endpoint
        self.node = node
        self.allowed = allowed
        self.decidedBy = decidedBy
        self.trace = trace
    }

    /// `egress from x/a: allowed by policy x/knp.default.allow-a rule 0` and the like.
    public var summary: String {
        let head = "\(direction == .egress ? "egress from" : "ingress to") \(endpoint)"
        let d = decidedBy
        switch d.kind {
        case .policyRule:
            return "\(head): \(allowed ? "allowed" : "denied") by policy \(d.policy ?? "?") (tier \(d.tier ?? "default")) rule \(d.rule ?? 0)"
        case .profileRule:
            return "\(head): \(allowed ? "allowed" : "denied") by profile \(d.profile ?? "?") rule \(d.rule ?? 0)"
        case .endOfTier:
            return "\(head): denied: selected by \(d.policy ?? "policies of tier \(d.tier ?? "default")") and no rule matched (end of tier \(d.tier ?? "default"))"
        default:
            return "\(head): denied: \(d.text)"
        }
    }
}

/// Both directions of a flow; it gets through only when both allow it.
public struct ExplainResult: Sendable, Hashable, Codable {
    public var egress: ExplainDirection
    public var ingress: ExplainDirection

    public init(egress: ExplainDirection, ingress: ExplainDirection) {
        self.egress = egress
        self.ingress = ingress
    }

    public var allowed: Bool { egress.allowed && ingress.allowed }
}

/// Why a flow cannot be explained.
public enum ExplainError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The endpoint is not in the calculated state of its node.
    case noEndpoint(String, node: String)
    case noAddress(String, ipVersion: Int?)
    case badPodName(String)
    case podNotFound(String)
    case notScheduled(String)

    public var description: String {
        switch self {
        case .noEndpoint(let key, let node):
            return "pod \(key) is not a workload endpoint of node \(node) (not scheduled, host-networked, finished or without an IP)"
        case .noAddress(let key, let v):
            return "pod \(key) has no \(v.map { "IPv\($0) " } ?? "")address; wait until it has one (or pick the other IP version)"
        case .badPodName(let text):
            return "\"\(text)\" is not NAMESPACE/NAME (for example default/web)"
        case .podNotFound(let key):
            return "pod \(key) not found; check the namespace and name (kubectl get pods -A)"
        case .notScheduled(let key):
            return "pod \(key) is not scheduled to a node yet, so no felix has an endpoint for it"
        }
    }
}
