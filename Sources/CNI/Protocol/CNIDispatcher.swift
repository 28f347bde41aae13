import Core
import Foundation

/// The outcome of reading one invocation: work for the edge, or an answer already.
public enum Dispatch: Sendable, Hashable {
    case perform(CNIRequest)
    case respond(PluginOutput)
}

/// The pure front of the plugin: (environment, stdin) to a request or an immediate output.
public enum CNIDispatcher {
    public static func dispatch(environment: [String: String], stdin: Data) -> Dispatch {
        do {
            return try request(environment: environment, stdin: stdin)
        } catch {
            // The config's version is echoed when it could be read; otherwise the newest.
            let declared = (try? JSONValue(data: stdin))?["cniVersion"]?.stringValue
            let version = declared.flatMap(SpecVersion.init(rawValue:)) ?? .current
            return .respond(.error(error, version: version))
        }
    }

    static func request(environment: [String: String], stdin: Data) throws(CNIError) -> Dispatch {
        let env = try CNIEnvironment.parse(environment)
        if env.command == .version { return .respond(.version) }
        let config = try NetworkConfig.decode(stdin)
        let v = config.cniVersion
        switch env.command {
        case .add, .del, .check:
            if env.command == .check {
                guard v.allowsCheck else { throw refused("CHECK", v, since: .v0_4_0) }
                guard config.prevResult != nil else {
                    throw CNIError.invalidConfig("prevResult", "is required for CHECK (the result of the preceding ADD)")
                }
            }
            // parse() guarantees these for attachment commands.
            guard let id = env.containerID, let ifName = env.ifName else {
                throw CNIError(.invalidEnvironment, "CNI_CONTAINERID and CNI_IFNAME are required")
            }
            let r = AttachmentRequest(containerID: id, ifName: ifName, netns: env.netns, args: env.args,
                                      paths: env.paths, config: config)
            switch env.command {
            case .add: return .perform(.add(r))
            case .del: return .perform(.del(r))
            default: return .perform(.check(r))
            }
        case .status:
            guard v.allowsStatusAndGC else { throw refused("STATUS", v, since: .v1_1_0) }
            return .perform(.status(config, paths: env.paths))
        case .gc:
            guard v.allowsStatusAndGC else { throw refused("GC", v, since: .v1_1_0) }
            let valid = try GCRequest.validAttachments(in: config)
            return .perform(.gc(GCRequest(paths: env.paths, config: config, validAttachments: valid)))
        case .version:
            return .respond(.version)
        }
    }

    private static func refused(_ command: String, _ v: SpecVersion, since: SpecVersion) -> CNIError {
        CNIError(.incompatibleVersion,
                 "config cniVersion \(v.rawValue) does not allow \(command); it needs \(since.rawValue) or later")
    }

    /// The output for a request the edge has carried out: the ADD result in the config's
    /// version, nothing for the other commands, or the error.
    public static func complete(_ request: CNIRequest, with outcome: Result<CNIResult?, CNIError>) -> PluginOutput {
        let v = request.config.cniVersion
        switch outcome {
        case .failure(let e): return .error(e, version: v)
        case .success(let result):
            guard request.command == .add else { return .success }
            return .result(result ?? CNIResult(), version: v)
        }
    }
}
