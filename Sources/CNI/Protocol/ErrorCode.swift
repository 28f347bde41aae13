/// The spec's well-known error codes (0-99 are reserved for the spec) and this plugin's own
/// codes from 100 up.
public enum ErrorCode: Int, Sendable, Hashable, CaseIterable {
    case incompatibleVersion = 1
    case unsupportedField = 2
    case containerUnknown = 3
    case invalidEnvironment = 4
    case ioFailure = 5
    case decodeFailure = 6
    case invalidNetworkConfig = 7
    case tryAgainLater = 11
    /// STATUS: the plugin cannot serve ADDs now.
    case pluginNotAvailable = 50
    /// STATUS: the plugin is available but existing containers may have limited connectivity.
    case pluginNotAvailableLimitedConnectivity = 51

    // Ours (100+).
    /// Anything unexpected inside the plugin; the message says what.
    case internalFailure = 100
    /// The Kubernetes API could not be reached or refused a request.
    case datastoreFailure = 101
    /// The delegated IPAM plugin failed without a CNI error of its own.
    case ipamFailure = 102
    /// Netlink, sysctl or namespace work on the host failed.
    case dataplaneFailure = 103
    /// An interface with the requested name already exists.
    case interfaceExists = 104
}

/// A CNI error as the spec prints it: `{"cniVersion", "code", "msg", "details"}`.
public struct CNIError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The numeric code; an `Int` so that codes relayed from a delegated plugin survive even
    /// when they are not in `ErrorCode`.
    public var code: Int
    public var msg: String
    public var details: String

    public init(_ code: ErrorCode, _ msg: String, details: String = "") {
        self.init(code: code.rawValue, msg: msg, details: details)
    }

    public init(code: Int, msg: String, details: String = "") {
        self.code = code
        self.msg = msg
        self.details = details
    }

    public var knownCode: ErrorCode? { ErrorCode(rawValue: code) }

    public var description: String {
        details.isEmpty ? "CNI error \(code): \(msg)" : "CNI error \(code): \(msg) (\(details))"
    }
}

extension CNIError {
    static func incompatible(configVersion: String) -> CNIError {
        let shown = configVersion.isEmpty ? "missing (read as 0.1.0)" : "\"\(configVersion)\""
        return CNIError(.incompatibleVersion,
                        "incompatible CNI versions: config cniVersion is \(shown), plugin supports \(SpecVersion.supportedList)")
    }

    static func decode(_ what: String) -> CNIError {
        CNIError(.decodeFailure, "failed to decode \(what)")
    }

    static func invalidConfig(_ field: String, _ problem: String) -> CNIError {
        CNIError(.invalidNetworkConfig, "invalid network config: \(field) \(problem)")
    }

    static func unsupported(_ field: String, _ value: String, _ hint: String) -> CNIError {
        CNIError(.unsupportedField, "unsupported field in network config: \(field) = \"\(value)\"; \(hint)")
    }
}
