#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The plugin's only contact with the process: environment, stdin and stdout, injectable so
/// that tests and the in-process dev cluster can drive the plugin without exec.
public struct PluginIO: Sendable {
    public var environment: @Sendable () -> [String: String]
    public var readStdin: @Sendable () -> Data
    public var writeStdout: @Sendable (Data) -> Void

    public init(environment: @escaping @Sendable () -> [String: String],
                readStdin: @escaping @Sendable () -> Data,
                writeStdout: @escaping @Sendable (Data) -> Void) {
        self.environment = environment
        self.readStdin = readStdin
        self.writeStdout = writeStdout
    }

    /// The real process. Stdin is read only when a command needs it, so a bare VERSION
    /// probe with a terminal on stdin does not block.
    public static let process = PluginIO(
        environment: { PluginIO.processEnvironment() },
        readStdin: { FileHandle.standardInput.readDataToEndOfFile() },
        writeStdout: { FileHandle.standardOutput.write($0) })
}

extension PluginIO {
    /// The process environment read straight from `environ`: ProcessInfo's copy goes through
    /// Foundation's bridging, a measurable part of a plugin call that lasts milliseconds.
    /// A name given twice keeps its first value, as getenv(3) does.
    public static func processEnvironment() -> [String: String] {
        var env: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let bytes = UnsafeRawBufferPointer(start: pointer, count: strlen(pointer))
            if let eq = bytes.firstIndex(of: UInt8(ascii: "=")) {
                let name = String(decoding: bytes[..<eq], as: UTF8.self)
                if env[name] == nil { env[name] = String(decoding: bytes[(eq + 1)...], as: UTF8.self) }
            }
            entry += 1
        }
        return env
    }
}

public enum CNIPluginRunner {
    /// Runs one invocation: dispatch, the handler for ADD/DEL/CHECK/STATUS/GC (which returns
    /// the ADD result and nil otherwise), output, and the exit status to use.
    /// A thrown CNIError is printed as is; anything else becomes code 100 with its text.
    public static func run(io: PluginIO,
                           handler: @Sendable (CNIRequest) async throws -> CNIResult?) async -> Int32 {
        let env = io.environment()
        let stdin = env["CNI_COMMAND"] == CNICommandKind.version.rawValue ? Data() : io.readStdin()
        let output: PluginOutput
        switch CNIDispatcher.dispatch(environment: env, stdin: stdin) {
        case .respond(let o):
            output = o
        case .perform(let request):
            let outcome: Result<CNIResult?, CNIError>
            do {
                outcome = .success(try await handler(request))
            } catch let e as CNIError {
                outcome = .failure(e)
            } catch {
                outcome = .failure(CNIError(.internalFailure, String(describing: error)))
            }
            output = CNIDispatcher.complete(request, with: outcome)
        }
        io.writeStdout(output.stdout)
        return output.exitCode
    }
}
