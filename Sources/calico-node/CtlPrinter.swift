import ArgumentParser
import Core
import Foundation
import Yams

enum CtlOutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, wide, yaml, json
}

/// Formats resources the way calicoctl prints them: a NAME table (plus namespace and age when
/// wide), or whole objects as YAML or JSON.
enum CtlPrinter {
    /// `single` is a get by name: the object itself; otherwise a list object, as calicoctl prints
    /// `<Kind>List` for Calico kinds even when it holds one item.
    static func render(items: [JSONValue], kind: ResourceKind, format: CtlOutputFormat, single: Bool = false) throws -> String {
        switch format {
        case .json:
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try e.encode(document(items, kind: kind, single: single)), as: UTF8.self) + "\n"
        case .yaml:
            return try YAMLEncoder().encode(document(items, kind: kind, single: single))
        case .table, .wide:
            var header = kind.namespaced ? ["NAMESPACE", "NAME"] : ["NAME"]
            if format == .wide { header.append("CREATED") }
            let rows = items.map { item -> [String] in
                let meta = item["metadata"]
                var row = kind.namespaced ? [meta?["namespace"]?.stringValue ?? ""] : []
                row.append(meta?["name"]?.stringValue ?? "")
                if format == .wide { row.append(meta?["creationTimestamp"]?.stringValue ?? "") }
                return row
            }
            return table([header] + rows)
        }
    }

    /// What `-o yaml|json` prints. Calico kinds are stored as crd.projectcalico.org/v1 objects but
    /// shown in calicoctl's projectcalico.org/v3 form (the same spec), so output can be applied
    /// back with calicoctl as well as with `ctl apply`.
    static func document(_ items: [JSONValue], kind: ResourceKind, single: Bool) -> JSONValue {
        let shown = items.map(asCalicoV3)
        if single, shown.count == 1 { return shown[0] }
        let calico = kind.group == ResourceKind.calicoGroup || kind.apiVersion == CtlResource.calicoV3
        return .object([
            "apiVersion": .string(calico ? CtlResource.calicoV3 : "v1"),
            "kind": .string(calico ? "\(kind.kind)List" : "List"),
            "items": .array(shown),
        ])
    }

    static func asCalicoV3(_ item: JSONValue) -> JSONValue {
        guard case .object(var fields) = item, fields["apiVersion"] == .string("\(ResourceKind.calicoGroup)/v1") else { return item }
        fields["apiVersion"] = .string(CtlResource.calicoV3)
        return .object(fields)
    }

    /// Endpoints derived from pods (`ctl get workloadendpoints`), optionally one by name.
    static func workloadEndpoints(client: KubeClient, name: String?, namespace: String?, format: CtlOutputFormat) async throws -> String {
        let pods = try await client.list(Pod.self, options: ListOptions(namespace: namespace)).items
        var endpoints = CtlWorkloadEndpoints.endpoints(pods)
        if let name { endpoints = endpoints.filter { $0.name == name || $0.pod == name } }
        switch format {
        case .table, .wide:
            return table(CtlWorkloadEndpoints.table(endpoints, wide: format == .wide))
        case .yaml, .json:
            let items = endpoints.map(CtlWorkloadEndpoints.object)
            return try render(items: items, kind: ResourceKind(group: "projectcalico.org", version: "v3", kind: "WorkloadEndpoint",
                                                           plural: "workloadendpoints", namespaced: true), format: format,
                              single: name != nil && items.count == 1)
        }
    }

    static func table(_ rows: [[String]]) -> String {
        guard let columns = rows.first?.count else { return "" }
        let widths = (0..<columns).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in
                c == columns - 1 ? cell : cell.padding(toLength: widths[c] + 3, withPad: " ", startingAt: 0)
            }.joined()
        }.joined(separator: "\n") + "\n"
    }
}
