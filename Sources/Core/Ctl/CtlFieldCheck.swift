/// Walks one resource's JSON with the field path at hand, so each check reports exactly where
/// the bad value is (`spec.ingress[0].source.nets[1]`).
struct CtlFieldCheck {
    let resource: String
    let path: String
    let value: JSONValue?

    init(resource: String, path: String, value: JSONValue?) {
        self.resource = resource
        self.path = path
        self.value = value
    }

    subscript(_ key: String) -> CtlFieldCheck {
        CtlFieldCheck(resource: resource, path: path.isEmpty ? key : "\(path).\(key)", value: value?[key])
    }

    var isPresent: Bool {
        guard let value else { return false }
        if case .null = value { return false }
        return true
    }

    func fail(_ problem: String) -> CtlError { .invalid(resource: resource, field: path, problem: problem) }

    /// The elements of a list field, each with its indexed path; absent is empty.
    func elements() throws(CtlError) -> [CtlFieldCheck] {
        guard isPresent else { return [] }
        guard let a = value?.arrayValue else { throw fail("must be a list") }
        return a.enumerated().map { CtlFieldCheck(resource: resource, path: "\(path)[\($0.offset)]", value: $0.element) }
    }

    func string() throws(CtlError) -> String? {
        guard isPresent else { return nil }
        guard let s = value?.stringValue else { throw fail("must be a string") }
        return s
    }

    func requiredString() throws(CtlError) -> String {
        guard let s = try string(), !s.isEmpty else { throw fail("is required") }
        return s
    }

    func integer() throws(CtlError) -> Int64? {
        guard isPresent else { return nil }
        switch value {
        case .int(let i)?: return i
        case .double(let d)? where d == d.rounded(): return Int64(d)
        default: throw fail("must be a whole number")
        }
    }

    func bool() throws(CtlError) {
        guard isPresent else { return }
        guard case .bool = value else { throw fail("must be true or false") }
    }

    func oneOf(_ allowed: [String]) throws(CtlError) {
        guard let s = try string() else { return }
        guard allowed.contains(s) else { throw fail("\"\(s)\" is not one of \(allowed.joined(separator: ", "))") }
    }

    func selector() throws(CtlError) {
        guard let s = try string() else { return }
        do { _ = try SelectorExpr.parse(s) } catch {
            throw fail("invalid selector: \(error.message), found \(error.found), in \"\(s)\"")
        }
    }

    func cidr() throws(CtlError) {
        guard let s = try string() else { return }
        guard IPNet(parsing: s) != nil else { throw fail("\"\(s)\" is not a CIDR or IP address") }
    }

    func ipAddress() throws(CtlError) {
        guard let s = try string() else { return }
        guard InetAddress(s) != nil else { throw fail("\"\(s)\" is not an IP address") }
    }

    func asNumber() throws(CtlError) {
        guard isPresent else { return }
        let text: String
        switch value {
        case .int(let i)?: text = String(i)
        case .string(let s)?: text = s
        default: throw fail("must be an AS number")
        }
        guard StartupSettings.parseASNumber(text) != nil else {
            throw fail("\"\(text)\" is not an AS number (1-4294967295, or dotted such as 1.10)")
        }
    }

    func port(range: ClosedRange<Int64> = 1...65535) throws(CtlError) {
        guard let p = try integer() else { return }
        guard range.contains(p) else { throw fail("\(p) is not a port (\(range.lowerBound)-\(range.upperBound))") }
    }
}
