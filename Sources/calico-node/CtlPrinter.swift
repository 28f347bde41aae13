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
    static func render(items: [JSONValue], kind: ResourceKind, format: CtlOutputFormat) throws -> String {
        switch format {
        case .json:
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let value = items.count == 1 ? items[0] : .object(["apiVersion": .string("v1"), "kind": .string("List"), "items": .array(items)])
            return String(decoding: try e.encode(value), as: UTF8.self) + "\n"
        case .yaml:
            return try items.map { try YAMLEncoder().encode($0) }.joined(separator: "---\n")
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
                                                           plural: "workloadendpoints", namespaced: true), format: format)
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
