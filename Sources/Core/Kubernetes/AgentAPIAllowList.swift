import Foundation

/// What the calico-node agent forwards for the CNI plugins, and nothing else (pure): exactly the
/// requests `calico` and `calico-ipam` make (see Sources/CNI and Sources/IPAM/Calico), so a
/// process that reaches the socket gains no more than those plugins' own kubeconfig grants.
public enum AgentAPIAllowList {
    public enum Verdict: Equatable, Sendable {
        case allow
        /// 403 with this message.
        case forbid(String)
        /// 400 with this message: not a request path at all.
        case malformed(String)
    }

    /// Calico's CRD group as the plugins address it.
    static let calicoPrefix = ["apis", ResourceKind.calicoGroup, "v1"]

    /// Per custom resource: methods on the collection (`GET` is a list) and on one object.
    /// IPPools and IPAMBlocks are listed (allocation, release, GC, STATUS); blocks are claimed
    /// by create and updated with their resourceVersion; affinities and handles are read,
    /// created, updated and deleted by name.
    static let calicoRules: [String: (collection: Set<String>, object: Set<String>)] = [
        "ippools": (["GET"], []),
        "ipamblocks": (["GET", "POST"], ["GET", "PUT"]),
        "blockaffinities": (["POST"], ["GET", "PUT", "DELETE"]),
        "ipamhandles": (["POST"], ["GET", "PUT", "DELETE"]),
    ]

    /// Query parameters a list may carry (the client's paging); anything else, `watch` above
    /// all, is refused.
    static let listQueryKeys: Set<String> = ["limit", "continue", "labelSelector", "fieldSelector", "resourceVersion"]

    /// The verdict for `method` on `target` (a path with an optional query, as on the request line).
    public static func check(method: String, target: String) -> Verdict {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = String(parts[0])
        let query = parts.count > 1 ? String(parts[1]) : nil
        guard path.hasPrefix("/"), path.count <= 1024 else { return .malformed("request target \(abbreviated(target)) is not an absolute path") }
        let segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for s in segments where s.isEmpty || s == "." || s == ".." || !s.allSatisfy(isNameCharacter) {
            return .malformed("request path \(abbreviated(path)) has an empty, dot or non-name segment \(abbreviated(s))")
        }
        let m = method.uppercased()
        let isList: Bool
        switch segments.count {
        case 4 where segments[0] == "api" && segments[1] == "v1" && segments[2] == "nodes":
            guard m == "GET" else { return forbidden(m, path, "only GET of one Node") }
            isList = false
        case 6 where segments[0] == "api" && segments[1] == "v1" && segments[2] == "namespaces" && segments[4] == "pods":
            guard m == "GET" || m == "PATCH" else { return forbidden(m, path, "only GET and PATCH of one Pod") }
            isList = false
        case 4, 5:
            guard Array(segments.prefix(3)) == calicoPrefix, let rule = calicoRules[segments[3]] else {
                return forbidden(m, path, "not a resource the CNI plugins use")
            }
            isList = segments.count == 4 && m == "GET"
            let allowed = segments.count == 4 ? rule.collection : rule.object
            guard allowed.contains(m) else {
                return forbidden(m, path, "\(segments[3]) allows \(segments.count == 4 ? "on the collection" : "by name"): "
                    + (allowed.isEmpty ? "nothing" : allowed.sorted().joined(separator: ", ")))
            }
        default:
            return forbidden(m, path, "not a resource the CNI plugins use")
        }
        if let query, !query.isEmpty {
            guard isList else { return forbidden(m, path, "a query is only forwarded on a list") }
            for item in query.split(separator: "&") {
                let key = String(item.split(separator: "=", maxSplits: 1).first ?? "")
                guard listQueryKeys.contains(key) else {
                    return forbidden(m, path, "query parameter \(abbreviated(key)) is not forwarded (watches are not served)")
                }
            }
        }
        return .allow
    }

    /// Kubernetes object names, plus `_` and `~`; no `%`, so an encoded `/` cannot slip through.
    private static func isNameCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == "." || c == "_" || c == "~")
    }

    private static func forbidden(_ method: String, _ path: String, _ why: String) -> Verdict {
        .forbid("the calico-node agent does not forward \(abbreviated(method)) \(abbreviated(path)) for the CNI plugins: \(why)")
    }

    static func abbreviated(_ s: String) -> String {
        s.count <= 120 ? s : String(s.prefix(120)) + "…"
    }
}
