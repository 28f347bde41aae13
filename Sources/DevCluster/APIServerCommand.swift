import ArgumentParser
import Foundation
import Logging

/// `calico-devcluster apiserver`: serves the Kubernetes API subset calico-node uses.
struct APIServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apiserver",
        abstract: "Run a development Kubernetes API server (HTTPS) that kubectl accepts.",
        discussion: """
        Writes DATA-DIR/admin.kubeconfig (bearer token), DATA-DIR/admin-certauth.kubeconfig (client \
        certificate) and DATA-DIR/ca.crt, keeps its state in DATA-DIR/state.jsonl, and prints \
        "listening on https://HOST:PORT" once ready. Fault injection for tests: POST \
        /devcluster/faults/drop-watches, /devcluster/faults/fail-next?count=N&code=C, /devcluster/faults/compact.
        """
    )

    @Option(help: "TCP port (0 picks a free one).") var port: Int = 6443
    @Option(help: "Address to listen on.") var bind: String = "127.0.0.1"
    @Option(help: "Directory for credentials and state (default: a new temporary directory).") var dataDir: String?
    @Option(help: "Seconds between BOOKMARK events on watches that allow them.") var bookmarkInterval: Double = 2
    @Option(help: "Changes kept for watches that resume from a resourceVersion.") var history: Int = 50_000
    @Flag(help: "Log every request to stderr.") var logRequests = false

    func run() throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "calico-devcluster")
        let dir: String
        if let dataDir {
            dir = dataDir
        } else {
            dir = NSTemporaryDirectory() + "calico-devcluster-" + UUID().uuidString.prefix(8).lowercased()
            Self.say("data dir: \(dir)")
        }
        let server = APIServer(options: .init(port: port, bind: bind, dataDir: dir, bookmarkInterval: bookmarkInterval,
                                              historyCapacity: history, logRequests: logRequests), logger: logger)
        do {
            try server.start()
        } catch {
            throw ValidationError("cannot start the API server: \(error)")
        }
        _ = signal(SIGPIPE, SIG_IGN)
        var signals: [DispatchSourceSignal] = []
        for sig: Int32 in [SIGTERM, SIGINT] {
            _ = signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                server.shutdown()
                Foundation.exit(0)
            }
            source.resume()
            signals.append(source)
        }
        Self.say("listening on \(server.url)")
        try server.wait()
        withExtendedLifetime(signals) {}
    }

    /// Unbuffered, so a parent reading our stdout through a pipe sees the line at once.
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
