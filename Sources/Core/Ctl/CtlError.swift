/// Why a `ctl` command refused or failed. Validation errors name the document, the resource
/// and the field path (`spec.ingress[0].source.nets[1]`), so the fix is obvious.
public enum CtlError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file is not YAML/JSON.
    case syntax(source: String, detail: String)
    /// A document is not a resource we handle (apiVersion/kind).
    case unsupported(document: Int, detail: String)
    /// A field has an invalid value.
    case invalid(resource: String, field: String, problem: String)
    /// The API refused an operation.
    case api(operation: String, resource: String, detail: String)

    public var description: String {
        switch self {
        case .syntax(let source, let detail):
            return "\(source) is not valid YAML or JSON: \(detail)"
        case .unsupported(let document, let detail):
            return "document \(document): \(detail)"
        case .invalid(let resource, let field, let problem):
            return "\(resource): \(field): \(problem)"
        case .api(let operation, let resource, let detail):
            return "\(operation) \(resource) failed: \(detail)"
        }
    }
}
