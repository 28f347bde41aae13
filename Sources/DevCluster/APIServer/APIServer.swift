import Core
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Wires the pieces together: data directory, credentials, stored state, TLS and HTTP.
final class APIServer {
    struct Options: Sendable {
        var port = 6443
        var bind = "127.0.0.1"
        var dataDir: String
        var bookmarkInterval: Double = 2
        var historyCapacity = 50_000
        var logRequests = false
    }

    let options: Options
    let logger: Logger
    private(set) var store: SharedStore!
    private(set) var persistence: Persistence!
    private var channel: Channel?
    private var group: MultiThreadedEventLoopGroup?
    private(set) var url = ""

    init(options: Options, logger: Logger) {
        self.options = options
        self.logger = logger
    }

    /// Prepares everything and binds; returns once the server accepts connections.
    func start() throws {
        let dir = options.dataDir
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let token = try Self.loadOrMakeToken(dir + "/token")
        let certs = try ClusterCertificates.prepare(in: dir, extraHosts: [options.bind])

        let persistence = Persistence(dataDir: dir)
        let loaded = try Persistence.load(path: persistence.path, historyCapacity: options.historyCapacity)
        let store = SharedStore(loaded ?? Store(historyCapacity: options.historyCapacity))
        let logger = self.logger
        persistence.onError = { logger.error("\($0)") }
        persistence.attach(to: store)
        if loaded == nil { persistence.flush() }
        self.store = store
        self.persistence = persistence

        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(certs.server.certificatePEM.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(certs.server.keyPEM.utf8), format: .pem)))
        tls.certificateVerification = .optionalVerification
        tls.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(certs.ca.certificatePEM.utf8), format: .pem)])
        tls.applicationProtocols = ["http/1.1"]
        let sslContext = try NIOSSLContext(configuration: tls)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(2, System.coreCount))
        self.group = group
        // The router needs the address clients use; it is known only after binding (port 0).
        let routerBox = RouterBox()
        let settingsTemplate = options
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let settings = ConnectionSettings(router: routerBox.router!, token: token,
                                                      bookmarkInterval: .milliseconds(Int64(settingsTemplate.bookmarkInterval * 1000)),
                                                      logRequests: settingsTemplate.logRequests, logger: logger)
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(APIHTTPHandler(settings: settings))
                }
            }
        let channel = try bootstrap.bind(host: options.bind, port: options.port).wait()
        self.channel = channel
        let port = channel.localAddress?.port ?? options.port
        url = Kubeconfig.serverURL(bind: options.bind, port: port)
        routerBox.router = APIRouter(store: store, serverAddress: url.replacingOccurrences(of: "https://", with: ""))

        try ClusterCertificates.write(Kubeconfig.render(server: url, caPEM: certs.ca.certificatePEM, credentials: .token(token)),
                                      to: dir + "/admin.kubeconfig", mode: 0o600)
        try ClusterCertificates.write(Kubeconfig.render(server: url, caPEM: certs.ca.certificatePEM,
                                                        credentials: .clientCertificate(certificatePEM: certs.client.certificatePEM, keyPEM: certs.client.keyPEM)),
                                      to: dir + "/admin-certauth.kubeconfig", mode: 0o600)
        logger.info("serving \(ResourceKind.all.count) kinds from \(dir) at resourceVersion \(store.resourceVersion)")
    }

    /// Blocks until the server channel closes.
    func wait() throws {
        try channel?.closeFuture.wait()
    }

    /// Saves the state and stops listening.
    func shutdown() {
        persistence?.flush()
        channel?.close(promise: nil)
    }

    static func loadOrMakeToken(_ path: String) throws -> String {
        if let t = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), t.count >= 32 {
            return t
        }
        var rng = SystemRandomNumberGenerator()
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
        try ClusterCertificates.write(token + "\n", to: path, mode: 0o600)
        return token
    }
}

/// Set once after binding, read by every connection afterwards.
private final class RouterBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: APIRouter?
    var router: APIRouter? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
