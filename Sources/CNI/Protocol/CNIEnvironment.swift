/// The CNI operations (CNI_COMMAND).
public enum CNICommandKind: String, Sendable, Hashable, CaseIterable {
    case add = "ADD", del = "DEL", check = "CHECK", version = "VERSION", status = "STATUS", gc = "GC"

    /// The variables the spec (1.1.0, section 2) requires for this command, besides
    /// CNI_COMMAND itself. CNI_NETNS is optional on DEL: a DEL must succeed with the netns gone.
    public var requiredVariables: [String] {
        switch self {
        case .add: return ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"]
        case .del: return ["CNI_CONTAINERID", "CNI_IFNAME"]
        case .check: return ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"]
        case .gc: return ["CNI_PATH"]
        case .version, .status: return []
        }
    }

    /// ADD, DEL and CHECK act on one attachment and so read the container variables.
    public var isAttachmentCommand: Bool { self == .add || self == .del || self == .check }
}

/// The validated invocation environment.
public struct CNIEnvironment: Sendable, Hashable {
    public var command: CNICommandKind
    /// Set (and valid) for ADD, DEL and CHECK.
    public var containerID: String?
    /// Required for ADD and CHECK; may be nil on DEL.
    public var netns: String?
    public var ifName: String?
    public var args: CNIArgs
    /// CNI_PATH split on `:`, for finding a delegated IPAM plugin.
    public var paths: [String]

    public init(command: CNICommandKind, containerID: String? = nil, netns: String? = nil, ifName: String? = nil,
                args: CNIArgs = CNIArgs(), paths: [String] = []) {
        self.command = command; self.containerID = containerID; self.netns = netns
        self.ifName = ifName; self.args = args; self.paths = paths
    }

    /// Reads and validates the variables for the command; every problem is code 4 and names
    /// the variable. Empty values count as unset, as in the reference library.
    public static func parse(_ env: [String: String]) throws(CNIError) -> CNIEnvironment {
        func value(_ name: String) -> String? {
            guard let v = env[name], !v.isEmpty else { return nil }
            return v
        }
        guard let commandText = value("CNI_COMMAND") else {
            throw CNIError(.invalidEnvironment, "CNI_COMMAND is not set; expected one of \(commandList)")
        }
        guard let command = CNICommandKind(rawValue: commandText) else {
            throw CNIError(.invalidEnvironment, "CNI_COMMAND \"\(commandText)\" is unknown; expected one of \(commandList)")
        }
        let missing = command.requiredVariables.filter { value($0) == nil }
        if !missing.isEmpty {
            throw CNIError(.invalidEnvironment,
                           "required environment variables missing for \(command.rawValue): \(missing.joined(separator: ", "))")
        }
        var out = CNIEnvironment(command: command)
        out.paths = (value("CNI_PATH") ?? "").split(separator: ":").map(String.init)
        guard command.isAttachmentCommand else { return out }
        out.containerID = try validContainerID(value("CNI_CONTAINERID"))
        out.netns = value("CNI_NETNS")
        out.ifName = try validInterfaceName(value("CNI_IFNAME"))
        out.args = try CNIArgs.parse(value("CNI_ARGS") ?? "")
        return out
    }

    private static var commandList: String { CNICommandKind.allCases.map(\.rawValue).joined(separator: ", ") }

    /// The spec: starts with an alphanumeric, then alphanumerics, `_`, `.` or `-`.
    static func validContainerID(_ id: String?) throws(CNIError) -> String? {
        guard let id else { return nil }
        let ok = id.unicodeScalars.enumerated().allSatisfy { i, c in
            c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c)
                || (i > 0 && (c == "_" || c == "." || c == "-")))
        }
        guard ok else { throw CNIError(.invalidEnvironment, "CNI_CONTAINERID \"\(id)\" has invalid characters") }
        return id
    }

    /// The spec: a Linux interface name; shorter than 16 bytes, not `.` or `..`, and without
    /// `/`, `:` or whitespace.
    static func validInterfaceName(_ name: String?) throws(CNIError) -> String? {
        guard let name else { return nil }
        let problem: String?
        if name.utf8.count > 15 { problem = "is longer than 15 characters" }
        else if name == "." || name == ".." { problem = "must not be \".\" or \"..\"" }
        else if name.unicodeScalars.contains(where: { $0 == "/" || $0 == ":" || $0.properties.isWhitespace }) {
            problem = "must not contain '/', ':' or whitespace"
        } else { problem = nil }
        if let problem { throw CNIError(.invalidEnvironment, "CNI_IFNAME \"\(name)\" \(problem)") }
        return name
    }
}
