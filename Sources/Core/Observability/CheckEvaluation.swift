import Foundation

/// One probe `calico-node check` can make: a component's readiness or liveness.
public struct CheckRequest: Sendable, Hashable, CustomStringConvertible {
    public enum Aspect: String, Sendable, Hashable { case ready, live }
    /// The component's name in the health server's JSON ("felix", "bgp").
    public var component: String
    public var aspect: Aspect

    public init(component: String, aspect: Aspect) {
        self.component = component
        self.aspect = aspect
    }

    /// /readiness or /liveness.
    public var path: String { aspect == .ready ? "/readiness" : "/liveness" }
    public var description: String { "\(component) \(aspect == .ready ? "readiness" : "liveness")" }
}

/// The verdict on one check: nil failure means it holds.
public struct CheckOutcome: Sendable, Equatable {
    public var request: CheckRequest
    public var failure: String?
    public var passed: Bool { failure == nil }
}

/// Judges checks against the health server's answer. Pure: the caller fetches.
public enum CheckEvaluation {
    /// `status` and `body` are the answer to GET `request.path`; the overall status code only
    /// says whether *every* component holds, so each component is judged by its own entry.
    public static func evaluate(_ request: CheckRequest, status: Int, body: [UInt8]) -> CheckOutcome {
        func fail(_ why: String) -> CheckOutcome { CheckOutcome(request: request, failure: "\(request) failed: \(why)") }
        guard status == 200 || status == 503 else {
            return fail("the health endpoint answered \(request.path) with HTTP \(status)")
        }
        guard let table = try? JSONDecoder().decode([String: ComponentHealth].self, from: Data(body)) else {
            return fail("the health endpoint's \(request.path) answer is not the component table: \(String(decoding: body.prefix(200), as: UTF8.self))")
        }
        guard let health = table[request.component] else {
            let known = table.keys.sorted()
            return fail("\(request.component) is not running in this calico-node (components: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
        }
        let holds = request.aspect == .ready ? health.ready : health.live
        if holds { return CheckOutcome(request: request, failure: nil) }
        return fail("\(request.component) is not \(request.aspect.rawValue)" + (health.detail.isEmpty ? "" : ": \(health.detail)"))
    }
}
