import Foundation

/// `ctl create|apply|delete` against the API. The transport is one request in, status and body
/// out (`KubeClient.raw`), so the same code serves the real cluster and the dev server.
public struct CtlOperations: Sendable {
    public typealias Transport = @Sendable (_ method: String, _ path: String, _ body: Data?, _ contentType: String?) async throws -> (status: Int, body: Data)

    public enum Verb: String, Sendable { case create, apply, delete }

    let send: Transport

    public init(transport: @escaping Transport) { self.send = transport }

    public init(client: KubeClient) {
        self.send = { method, path, body, contentType in
            try await client.raw(method: method, path: path, body: body, contentType: contentType)
        }
    }

    /// Performs `verb` on each resource in order; stops at the first failure. Returns calicoctl's
    /// summary lines (`Successfully applied 2 'IPPool' resource(s)`).
    public func run(_ verb: Verb, _ resources: [CtlResource]) async throws(CtlError) -> [String] {
        var counts: [(String, Int)] = []
        for r in resources {
            try await perform(verb, r)
            if let i = counts.firstIndex(where: { $0.0 == r.kind.kind }) { counts[i].1 += 1 } else { counts.append((r.kind.kind, 1)) }
        }
        let past = ["create": "created", "apply": "applied", "delete": "deleted"][verb.rawValue]!
        return counts.map { "Successfully \(past) \($0.1) '\($0.0)' resource(s)" }
    }

    func perform(_ verb: Verb, _ r: CtlResource) async throws(CtlError) {
        if r.kind == .node {
            guard verb == .apply else {
                throw .api(operation: verb.rawValue, resource: r.label,
                           detail: "in the Kubernetes datastore Calico nodes are Kubernetes Nodes, which the kubelet \(verb == .create ? "registers" : "owns"); use `ctl apply` to set their BGP fields")
            }
            let (status, body) = try await request("PATCH", r.kind.path(name: r.name), r.body, "application/merge-patch+json", r, verb)
            guard (200..<300).contains(status) else { throw failure(verb, r, status, body) }
            return
        }
        let objectPath = r.kind.path(namespace: r.namespace, name: r.name)
        switch verb {
        case .delete:
            let (status, body) = try await request("DELETE", objectPath, nil, nil, r, verb)
            guard (200..<300).contains(status) else { throw failure(verb, r, status, body) }
        case .create:
            let (status, body) = try await request("POST", r.kind.path(namespace: r.namespace), r.body, nil, r, verb)
            guard (200..<300).contains(status) else { throw failure(verb, r, status, body) }
        case .apply:
            // Replace with the stored resourceVersion; a concurrent writer makes us read again.
            for _ in 0..<5 {
                let (getStatus, current) = try await request("GET", objectPath, nil, nil, r, verb)
                if getStatus == 404 {
                    let (status, body) = try await request("POST", r.kind.path(namespace: r.namespace), r.body, nil, r, verb)
                    if status == 409 { continue }
                    guard (200..<300).contains(status) else { throw failure(verb, r, status, body) }
                    return
                }
                guard (200..<300).contains(getStatus), let existing = try? JSONValue(data: current) else {
                    throw failure(verb, r, getStatus, current)
                }
                var replacement = r.body
                for key in ["resourceVersion", "uid", "creationTimestamp"] {
                    if let v = existing["metadata"]?[key] { replacement["metadata"]?[key] = v }
                }
                let (status, body) = try await request("PUT", objectPath, replacement, nil, r, verb)
                if status == 409 { continue }
                guard (200..<300).contains(status) else { throw failure(verb, r, status, body) }
                return
            }
            throw .api(operation: verb.rawValue, resource: r.label, detail: "the resource kept changing under us; try again")
        }
    }

    private func request(_ method: String, _ path: String, _ body: JSONValue?, _ contentType: String?,
                         _ r: CtlResource, _ verb: Verb) async throws(CtlError) -> (Int, Data) {
        do {
            return try await send(method, path, try body?.data(), contentType)
        } catch {
            throw .api(operation: verb.rawValue, resource: r.label, detail: "\(error)")
        }
    }

    private func failure(_ verb: Verb, _ r: CtlResource, _ status: Int, _ body: Data) -> CtlError {
        let message = (try? JSONDecoder().decode(APIStatus.self, from: body))?.message ?? String(decoding: body.prefix(200), as: UTF8.self)
        let hint: String
        switch (status, verb) {
        case (404, .delete), (404, .apply) where r.kind == .node: hint = "it does not exist"
        case (409, .create): hint = "it already exists; use `ctl apply` to change it"
        case (404, _) where r.namespace != nil && message.contains("namespaces"):
            hint = "namespace \"\(r.namespace!)\" does not exist; create it first"
        case (404, _): hint = "the API does not serve \(r.kind.plural); install deploy/crds.yaml"
        case (403, _): hint = "forbidden; grant the ClusterRole in deploy/rbac-kdd.yaml"
        default: hint = "HTTP \(status)"
        }
        return .api(operation: verb.rawValue, resource: r.label, detail: "\(hint) (\(message))")
    }
}
