import Foundation
import Yams

/// Reads the resources of a `ctl apply|create|delete -f` file: YAML or JSON, several documents
/// separated by `---`, and `kind: List` wrappers unpacked.
public enum CtlDocuments {
    public static func parse(_ text: String, source: String) throws(CtlError) -> [JSONValue] {
        var out: [JSONValue] = []
        do {
            // Parser.nextRoot throws on bad syntax (compose_all's sequence would just stop).
            let parser = try Parser(yaml: text)
            while let node = try parser.nextRoot() {
                let value = json(node)
                if case .null = value { continue }
                if value["kind"]?.stringValue?.hasSuffix("List") == true, let items = value["items"]?.arrayValue {
                    out += items
                } else {
                    out.append(value)
                }
            }
        } catch let e as YamlError {
            throw .syntax(source: source, detail: "\(e)".split(separator: "\n").first.map(String.init) ?? "unreadable")
        } catch {
            throw .syntax(source: source, detail: "\(error)")
        }
        return out
    }

    /// YAML to JSON by the resolved tags: quoted scalars stay strings (`port: "80"`).
    static func json(_ node: Node) -> JSONValue {
        switch node {
        case .scalar(let s):
            switch node.tag.description {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue: return node.bool.map(JSONValue.bool) ?? .string(s.string)
            case Tag.Name.int.rawValue: return node.int.map { .int(Int64($0)) } ?? .string(s.string)
            case Tag.Name.float.rawValue: return node.float.map(JSONValue.double) ?? .string(s.string)
            default: return .string(s.string)
            }
        case .mapping(let m):
            var o: [String: JSONValue] = [:]
            for (k, v) in m { o[k.string ?? "\(k)"] = json(v) }
            return .object(o)
        case .sequence(let seq):
            return .array(seq.map(json))
        case .alias:
            return .null
        }
    }
}
