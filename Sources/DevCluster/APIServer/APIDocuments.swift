import Core

/// The fixed documents of the API: Status errors and discovery.
enum APIDocuments {
    static let gitVersion = "v1.32.0"

    static func status(_ error: StoreError) -> JSONValue {
        var s = status(code: error.code, reason: error.reason, message: error.description)
        if let d = error.details {
            var details: [String: JSONValue] = ["name": .string(d.name), "kind": .string(d.kind.plural)]
            if !d.kind.group.isEmpty { details["group"] = .string(d.kind.group) }
            s["details"] = .object(details)
        }
        return s
    }

    static func status(code: Int, reason: String, message: String) -> JSONValue {
        .object([
            "kind": .string("Status"), "apiVersion": .string("v1"), "metadata": .object([:]),
            "status": .string("Failure"), "message": .string(message), "reason": .string(reason), "code": .int(Int64(code)),
        ])
    }

    static func success(_ message: String) -> JSONValue {
        .object(["kind": .string("Status"), "apiVersion": .string("v1"), "metadata": .object([:]), "status": .string("Success"),
                 "message": .string(message), "code": .int(200)])
    }

    static let version: JSONValue = .object([
        "major": .string("1"), "minor": .string("32"), "gitVersion": .string(gitVersion), "gitCommit": .string("calico-devcluster"),
        "gitTreeState": .string("clean"), "buildDate": .string("2025-01-01T00:00:00Z"), "goVersion": .string("go1.23.0"),
        "compiler": .string("gc"), "platform": .string("linux/amd64"),
    ])

    static var groups: [String] {
        var seen: [String] = []
        for k in ResourceKind.all where !k.group.isEmpty && !seen.contains(k.group) { seen.append(k.group) }
        return seen
    }

    static func apiVersions(serverAddress: String) -> JSONValue {
        .object([
            "kind": .string("APIVersions"), "versions": .array([.string("v1")]),
            "serverAddressByClientCIDRs": .array([.object(["clientCIDR": .string("0.0.0.0/0"), "serverAddress": .string(serverAddress)])]),
        ])
    }

    static func apiGroup(_ name: String) -> JSONValue {
        let versions = Array(Set(ResourceKind.all.filter { $0.group == name }.map(\.version))).sorted()
        let gvs: [JSONValue] = versions.map { .object(["groupVersion": .string("\(name)/\($0)"), "version": .string($0)]) }
        return .object(["kind": .string("APIGroup"), "apiVersion": .string("v1"), "name": .string(name), "versions": .array(gvs),
                        "preferredVersion": gvs.first ?? .null])
    }

    static var apiGroupList: JSONValue {
        var list: [JSONValue] = []
        for g in groups {
            var group = apiGroup(g)
            group["kind"] = nil
            group["apiVersion"] = nil
            list.append(group)
        }
        return .object(["kind": .string("APIGroupList"), "apiVersion": .string("v1"), "groups": .array(list)])
    }

    static let verbs: JSONValue = .array(["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"].map { .string($0) })

    /// The APIResourceList of one group version, or nil if we serve no kind there.
    static func resourceList(group: String, version: String) -> JSONValue? {
        let kinds = ResourceKind.all.filter { $0.group == group && $0.version == version }
        guard !kinds.isEmpty else { return nil }
        var resources: [JSONValue] = []
        for k in kinds {
            var r: [String: JSONValue] = [
                "name": .string(k.plural), "singularName": .string(k.singular), "namespaced": .bool(k.namespaced),
                "kind": .string(k.kind), "verbs": verbs,
            ]
            if !k.shortNames.isEmpty { r["shortNames"] = .array(k.shortNames.map { .string($0) }) }
            if k == .pod { r["categories"] = .array([.string("all")]) }
            resources.append(.object(r))
            if [.pod, .node, .namespace].contains(k) {
                resources.append(.object(["name": .string(k.plural + "/status"), "singularName": .string(""), "namespaced": .bool(k.namespaced),
                                          "kind": .string(k.kind), "verbs": .array([.string("get"), .string("patch"), .string("update")])]))
            }
        }
        let gv = group.isEmpty ? version : "\(group)/\(version)"
        return .object(["kind": .string("APIResourceList"), "apiVersion": .string("v1"), "groupVersion": .string(gv), "resources": .array(resources)])
    }
}

