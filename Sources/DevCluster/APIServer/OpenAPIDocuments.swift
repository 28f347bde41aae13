import Core

/// A minimal OpenAPI v3 description: one PATCH operation per kind carrying the
/// `fieldValidation` query parameter. That is all kubectl looks for to decide that the server
/// validates fields itself, so `kubectl create -f` needs no client-side schema (and /openapi/v2,
/// which would be needed for that, stays 404).
enum OpenAPIDocuments {
    static let hash = "devcluster1"

    /// `api/v1`, `apis/GROUP/VERSION`.
    static var groupVersionPaths: [String] {
        var seen: [String] = []
        for k in ResourceKind.all {
            let p = String(k.groupVersionPath.dropFirst())
            if !seen.contains(p) { seen.append(p) }
        }
        return seen
    }

    static var root: JSONValue {
        var paths: [String: JSONValue] = [:]
        for p in groupVersionPaths {
            paths[p] = .object(["serverRelativeURL": .string("/openapi/v3/\(p)?hash=\(hash)")])
        }
        return .object(["paths": .object(paths)])
    }

    /// The document for `api/v1` or `apis/G/V`; nil if we serve nothing there.
    static func document(_ groupVersionPath: String) -> JSONValue? {
        let kinds = ResourceKind.all.filter { String($0.groupVersionPath.dropFirst()) == groupVersionPath }
        guard !kinds.isEmpty else { return nil }
        var paths: [String: JSONValue] = [:]
        let fieldValidation: JSONValue = .object([
            "name": .string("fieldValidation"), "in": .string("query"), "schema": .object(["type": .string("string")]),
            "description": .string("Ignore, Warn or Strict; the development server accepts unknown fields."),
        ])
        for k in kinds {
            let gvk: JSONValue = .object(["group": .string(k.group), "version": .string(k.version), "kind": .string(k.kind)])
            let path = k.namespaced ? k.path(namespace: "{namespace}", name: "{name}") : k.path(name: "{name}")
            paths[path] = .object([
                "patch": .object([
                    "operationId": .string("patch\(k.kind)"),
                    "x-kubernetes-group-version-kind": gvk,
                    "x-kubernetes-action": .string("patch"),
                    "parameters": .array([fieldValidation]),
                    "responses": .object(["200": .object(["description": .string("OK")])]),
                ]),
            ])
        }
        return .object([
            "openapi": .string("3.0.0"),
            "info": .object(["title": .string("Kubernetes"), "version": .string(APIDocuments.gitVersion)]),
            "paths": .object(paths),
            "components": .object(["schemas": .object([:])]),
        ])
    }
}
