import Core
import Foundation

/// What the plugin process prints and how it exits.
public struct PluginOutput: Sendable, Hashable {
    public var stdout: Data
    public var exitCode: Int32

    public init(stdout: Data, exitCode: Int32) {
        self.stdout = stdout
        self.exitCode = exitCode
    }

    /// Success without output: DEL, CHECK, STATUS and GC.
    public static let success = PluginOutput(stdout: Data(), exitCode: 0)

    /// VERSION: `{"cniVersion": "1.1.0", "supportedVersions": [...]}`.
    public static var version: PluginOutput {
        let v = JSONValue.object([
            "cniVersion": .string(SpecVersion.current.rawValue),
            "supportedVersions": .array(SpecVersion.supported.map { .string($0.rawValue) }),
        ])
        return PluginOutput(stdout: bytes(v), exitCode: 0)
    }

    /// ADD: the result in the config's version.
    public static func result(_ result: CNIResult, version: SpecVersion) -> PluginOutput {
        PluginOutput(stdout: bytes(result.json(for: version)), exitCode: 0)
    }

    /// Any failure: the spec's error object on stdout and exit status 1 (as the reference
    /// library exits). `details` is left out when empty.
    public static func error(_ error: CNIError, version: SpecVersion = .current) -> PluginOutput {
        PluginOutput(stdout: bytes(error.json(version: version)), exitCode: 1)
    }

    private static func bytes(_ value: JSONValue) -> Data {
        var d = Data(JSONWire.encodeSorted(value))
        d.append(0x0A)
        return d
    }
}

extension CNIError {
    public func json(version: SpecVersion = .current) -> JSONValue {
        JSONValue.compactObject([
            ("cniVersion", .string(version.rawValue)),
            ("code", .int(Int64(code))),
            ("msg", .string(msg)),
            ("details", .nonEmpty(details)),
        ])
    }

    /// Reads a delegated plugin's error output, so its code and message can be passed on.
    public static func decode(_ data: Data) -> CNIError? {
        guard let v = try? JSONValue(data: data), let code = v["code"]?.intValue, let small = Int(exactly: code) else { return nil }
        return CNIError(code: small, msg: v["msg"]?.stringValue ?? "", details: v["details"]?.stringValue ?? "")
    }
}
