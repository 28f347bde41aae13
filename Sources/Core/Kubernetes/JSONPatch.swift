import Foundation

/// RFC 6902 JSON Patch (`application/json-patch+json`), the operations a Kubernetes client
/// sends: add, remove, replace, test, copy and move, with RFC 6901 pointers (pure).
/// The CNI plugin's DEL uses `test` so that blanking a Pod's addresses and checking that no
/// newer sandbox owns them is one request; the dev API server applies patches with it.
public enum JSONPatch {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// Not a patch at all (400): not an array, an unknown op, a missing field.
        case malformed(String)
        /// A well-formed patch that does not apply to this document (422): a failed `test`, a
        /// path that does not exist.
        case notApplicable(String)

        public var description: String {
            switch self {
            case .malformed(let m): return "malformed JSON patch: \(m)"
            case .notApplicable(let m): return "the JSON patch does not apply: \(m)"
            }
        }
    }

    /// `document` with every operation of `patch` applied in order; any failure leaves nothing
    /// applied (the caller keeps its document).
    public static func apply(_ patch: JSONValue, to document: JSONValue) throws(Failure) -> JSONValue {
        guard case .array(let ops) = patch else { throw .malformed("a JSON patch is an array of operations") }
        var doc = document
        for (i, op) in ops.enumerated() {
            guard case .object(let o) = op, let name = o["op"]?.stringValue, let path = o["path"]?.stringValue else {
                throw .malformed("operation \(i) needs string fields op and path")
            }
            let pointer = try parse(path)
            switch name {
            case "add", "replace", "test":
                guard let value = o["value"] else { throw .malformed("operation \(i) (\(name) \(path)) needs a value") }
                if name == "test" {
                    guard get(doc, pointer) == value else { throw .notApplicable("test of \(path) failed") }
                } else {
                    doc = try set(doc, pointer[...], value, replacing: name == "replace", path: path)
                }
            case "remove":
                doc = try remove(doc, pointer[...], path: path)
            case "copy", "move":
                guard let fromText = o["from"]?.stringValue else { throw .malformed("operation \(i) (\(name)) needs from") }
                let from = try parse(fromText)
                guard let value = get(doc, from) else { throw .notApplicable("from \(fromText) does not exist") }
                if name == "move" { doc = try remove(doc, from[...], path: fromText) }
                doc = try set(doc, pointer[...], value, replacing: false, path: path)
            default:
                throw .malformed("operation \(i) has unknown op \(name)")
            }
        }
        return doc
    }

    /// RFC 6901: "" is the whole document, else "/"-separated tokens with ~1 for / and ~0 for ~.
    static func parse(_ path: String) throws(Failure) -> [String] {
        if path.isEmpty { return [] }
        guard path.hasPrefix("/") else { throw .malformed("path \(path) does not start with /") }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~") }
    }

    static func get(_ doc: JSONValue, _ pointer: [String]) -> JSONValue? {
        var cur = doc
        for token in pointer {
            switch cur {
            case .object(let o): guard let next = o[token] else { return nil }; cur = next
            case .array(let a): guard let i = Int(token), a.indices.contains(i) else { return nil }; cur = a[i]
            default: return nil
            }
        }
        return cur
    }

    private static func set(_ doc: JSONValue, _ pointer: ArraySlice<String>, _ value: JSONValue, replacing: Bool,
                            path: String) throws(Failure) -> JSONValue {
        guard let token = pointer.first else { return value }
        let rest = pointer.dropFirst()
        switch doc {
        case .object(var o):
            if rest.isEmpty {
                if replacing, o[token] == nil { throw .notApplicable("replace of \(path): it does not exist") }
                o[token] = value
            } else {
                guard let child = o[token] else { throw .notApplicable("\(path): a parent does not exist") }
                o[token] = try set(child, rest, value, replacing: replacing, path: path)
            }
            return .object(o)
        case .array(var a):
            if rest.isEmpty, token == "-", !replacing { a.append(value); return .array(a) }
            guard let i = Int(token), i >= 0, i < a.count || (rest.isEmpty && !replacing && i == a.count) else {
                throw .notApplicable("\(path): index \(token) is out of range")
            }
            if rest.isEmpty {
                if replacing { a[i] = value } else { a.insert(value, at: i) }
            } else {
                a[i] = try set(a[i], rest, value, replacing: replacing, path: path)
            }
            return .array(a)
        default:
            throw .notApplicable("\(path): a parent is not an object or array")
        }
    }

    private static func remove(_ doc: JSONValue, _ pointer: ArraySlice<String>, path: String) throws(Failure) -> JSONValue {
        guard let token = pointer.first else { throw .notApplicable("cannot remove the whole document") }
        let rest = pointer.dropFirst()
        switch doc {
        case .object(var o):
            guard let child = o[token] else { throw .notApplicable("remove of \(path): it does not exist") }
            o[token] = rest.isEmpty ? nil : try remove(child, rest, path: path)
            return .object(o)
        case .array(var a):
            guard let i = Int(token), a.indices.contains(i) else { throw .notApplicable("\(path): index \(token) is out of range") }
            if rest.isEmpty { a.remove(at: i) } else { a[i] = try remove(a[i], rest, path: path) }
            return .array(a)
        default:
            throw .notApplicable("\(path): a parent is not an object or array")
        }
    }

    /// The RFC 7386 merge patch that turns `old` into `new` (removed keys as null).
    public static func mergeDiff(from old: JSONValue, to new: JSONValue) -> JSONValue {
        guard case .object(let o) = old, case .object(let n) = new else { return new }
        var patch: [String: JSONValue] = [:]
        for (k, v) in n where o[k] != v { patch[k] = o[k].map { mergeDiff(from: $0, to: v) } ?? v }
        for k in o.keys where n[k] == nil { patch[k] = .null }
        return .object(patch)
    }
}
