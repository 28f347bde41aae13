import Core
import Foundation

/// calico-ipam's ADD and DEL as one request to the calico-node agent, which runs Calico IPAM
/// itself on its warm API connection (pure codec, no I/O). The plugin sends the inputs it
/// would have used (node, handle's container ID, attributes, the `ipam` section, requested
/// addresses, its host lock file); the agent answers with the addresses or the CNI error the
/// plugin would have given. Versioned paths: an agent that does not know them answers 404
/// (or, older, 403 from its allow list), and the plugin then sends the per-object requests.
enum AgentIPAMWire {
    static let assignPath = AgentAPIRouting.localPrefix + "v1/ipam/assign"
    static let releasePath = AgentAPIRouting.localPrefix + "v1/ipam/release"

    struct Request: Sendable, Equatable {
        var containerID: String
        var node: String
        var namespace: String?
        var pod: String?
        /// The network config's `ipam` section as the plugin received it; the agent parses it
        /// with the same code (same errors).
        var ipam: JSONValue
        /// CNI_ARGS `IP=` addresses (assign only), already checked by the plugin.
        var requestedIPs: [IPNet]
        /// The plugin's host lock file, so the agent serialises with plugins that go direct.
        var lockFile: String?
    }

    /// What the agent did: the assigned addresses, a release, or the plugin's CNI error.
    enum Outcome: Sendable, Equatable {
        case assigned([IPNet])
        case released
        case failed(CNIError)
    }

    /// The request or answer is not ours (a bug or a version skew); never a user error.
    struct Malformed: Error, Equatable, CustomStringConvertible {
        var reason: String
        var description: String { "malformed calico-ipam agent message: \(reason)" }
    }

    /// The status of an IPAM refusal: the request was understood and IPAM said no.
    static let refusedStatus = 422

    static func encode(_ r: Request) -> Data {
        var o: [String: JSONValue] = [
            "containerID": .string(r.containerID), "node": .string(r.node), "ipam": r.ipam,
        ]
        if let ns = r.namespace { o["namespace"] = .string(ns) }
        if let pod = r.pod { o["pod"] = .string(pod) }
        if !r.requestedIPs.isEmpty { o["requestedIPs"] = .array(r.requestedIPs.map { .string($0.addressText) }) }
        if let lock = r.lockFile { o["lockFile"] = .string(lock) }
        return Data(JSONWire.encodeSorted(.object(o)))
    }

    static func decodeRequest(_ data: Data) throws(Malformed) -> Request {
        let v: JSONValue
        do { v = try JSONWire.parse(data) } catch { throw Malformed(reason: "request is not JSON: \(error)") }
        guard case .object = v else { throw Malformed(reason: "request is not a JSON object") }
        func text(_ key: String, required: Bool) throws(Malformed) -> String? {
            switch v[key] {
            case .string(let s)? where !s.isEmpty: return s
            case nil, .null?: if required { throw Malformed(reason: "\(key) is missing") } else { return nil }
            default: throw Malformed(reason: "\(key) must be a non-empty string")
            }
        }
        guard let ipam = v["ipam"], case .object = ipam else { throw Malformed(reason: "ipam must be an object") }
        var requested: [IPNet] = []
        if let list = v["requestedIPs"], list != .null {
            guard let items = list.arrayValue else { throw Malformed(reason: "requestedIPs must be a list of addresses") }
            for item in items {
                guard let s = item.stringValue, !s.contains("/"), let ip = IPNet(parsing: s) else {
                    throw Malformed(reason: "requestedIPs holds \(String(describing: item).prefix(60)), not an address")
                }
                requested.append(ip)
            }
        }
        return Request(containerID: try text("containerID", required: true)!, node: try text("node", required: true)!,
                       namespace: try text("namespace", required: false), pod: try text("pod", required: false),
                       ipam: ipam, requestedIPs: requested, lockFile: try text("lockFile", required: false))
    }

    /// The agent's HTTP status and body for `outcome`.
    static func encode(_ outcome: Outcome) -> (status: Int, body: Data) {
        switch outcome {
        case .assigned(let ips):
            return (200, Data(JSONWire.encodeSorted(.object(["ips": .array(ips.map { .string($0.description) })]))))
        case .released:
            return (200, Data(JSONWire.encodeSorted(.object([:]))))
        case .failed(let e):
            let error: JSONValue = .object(["code": .int(Int64(e.code)), "msg": .string(e.msg), "details": .string(e.details)])
            return (refusedStatus, Data(JSONWire.encodeSorted(.object(["error": error]))))
        }
    }

    /// The outcome in the agent's answer to an assign (`assign` true) or a release; nil for
    /// 403 and 404 (an agent without the endpoint: fall back to per-object requests).
    static func decodeOutcome(status: Int, body: Data, assign: Bool) throws(Malformed) -> Outcome? {
        if status == 403 || status == 404 { return nil }
        let v: JSONValue
        do { v = try JSONWire.parse(body) } catch { throw Malformed(reason: "answer \(status) is not JSON: \(error)") }
        switch status {
        case 200:
            guard assign else { return .released }
            guard let items = v["ips"]?.arrayValue else { throw Malformed(reason: "answer has no ips list") }
            var ips: [IPNet] = []
            for item in items {
                guard let s = item.stringValue, let ip = IPNet(parsing: s) else { throw Malformed(reason: "answer's ips hold \(String(describing: item).prefix(60))") }
                ips.append(ip)
            }
            return .assigned(ips)
        case refusedStatus:
            guard let e = v["error"], let code = e["code"]?.intValue, let msg = e["msg"]?.stringValue else {
                throw Malformed(reason: "refusal without error code and msg")
            }
            return .failed(CNIError(code: Int(code), msg: msg, details: e["details"]?.stringValue ?? ""))
        default:
            let message = v["message"]?.stringValue ?? String(decoding: body.prefix(300), as: UTF8.self)
            throw Malformed(reason: "status \(status): \(message)")
        }
    }
}
