import Core

/// Typed, path-aware access to the members of one JSON object. Every failure is a decode
/// error (code 6) that names the offending field by its full path, e.g.
/// `prevResult.ips[0].address`, so a runtime operator can find it in the config.
struct JSONFields {
    let path: String
    let members: [String: JSONValue]

    init(_ value: JSONValue, path: String) throws(CNIError) {
        guard case .object(let o) = value else {
            throw CNIError.decode("\(path.isEmpty ? "input" : path): expected a JSON object")
        }
        self.path = path
        self.members = o
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The member, treating JSON null like an absent key (as the reference Go decoder does).
    func raw(_ key: String) -> JSONValue? {
        guard let v = members[key], v != .null else { return nil }
        return v
    }

    private func mismatch(_ key: String, _ expected: String) -> CNIError {
        CNIError.decode("\(name(key)): must be \(expected)")
    }

    func string(_ key: String) throws(CNIError) -> String? {
        guard let v = raw(key) else { return nil }
        guard case .string(let s) = v else { throw mismatch(key, "a string") }
        return s
    }

    func bool(_ key: String) throws(CNIError) -> Bool? {
        guard let v = raw(key) else { return nil }
        guard case .bool(let b) = v else { throw mismatch(key, "true or false") }
        return b
    }

    func int(_ key: String) throws(CNIError) -> Int? {
        guard let v = raw(key) else { return nil }
        guard let i = v.intValue, let small = Int(exactly: i) else { throw mismatch(key, "an integer") }
        return small
    }

    func object(_ key: String) throws(CNIError) -> JSONFields? {
        guard let v = raw(key) else { return nil }
        guard case .object = v else { throw mismatch(key, "a JSON object") }
        return try JSONFields(v, path: name(key))
    }

    func array(_ key: String) throws(CNIError) -> [JSONValue]? {
        guard let v = raw(key) else { return nil }
        guard case .array(let a) = v else { throw mismatch(key, "a JSON array") }
        return a
    }

    func strings(_ key: String) throws(CNIError) -> [String]? {
        guard let a = try array(key) else { return nil }
        var out: [String] = []
        for (i, v) in a.enumerated() {
            guard case .string(let s) = v else { throw mismatch("\(key)[\(i)]", "a string") }
            out.append(s)
        }
        return out
    }

    /// Each element of an array of objects, with its indexed path.
    func objects(_ key: String) throws(CNIError) -> [JSONFields] {
        guard let a = try array(key) else { return [] }
        var out: [JSONFields] = []
        for (i, v) in a.enumerated() { out.append(try JSONFields(v, path: "\(name(key))[\(i)]")) }
        return out
    }

    func network(_ key: String) throws(CNIError) -> CNIIPNetwork? {
        guard let s = try string(key) else { return nil }
        guard let n = CNIIPNetwork(s) else { throw mismatch(key, "an address in CIDR form, got \"\(s)\"") }
        return n
    }

    func address(_ key: String) throws(CNIError) -> CNIIPAddress? {
        guard let s = try string(key), !s.isEmpty else { return nil }
        guard let a = CNIIPAddress(s) else { throw mismatch(key, "an IP address, got \"\(s)\"") }
        return a
    }
}

extension JSONValue {
    /// Builds an object from optional members, leaving out the nil ones (Go's `omitempty`).
    static func compactObject(_ pairs: [(String, JSONValue?)]) -> JSONValue {
        var o: [String: JSONValue] = [:]
        for (k, v) in pairs { if let v { o[k] = v } }
        return .object(o)
    }

    static func nonEmpty(_ s: String?) -> JSONValue? {
        guard let s, !s.isEmpty else { return nil }
        return .string(s)
    }

    static func nonEmpty(_ a: [String]) -> JSONValue? { a.isEmpty ? nil : .array(a.map(JSONValue.string)) }

    static func optional(_ i: Int?) -> JSONValue? { i.map { .int(Int64($0)) } }
}
