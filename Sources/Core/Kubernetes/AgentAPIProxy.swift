#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The calico-node agent's API endpoint for the CNI plugins on its node (the design Cilium's
/// agent uses): a root-only unix socket (0600 in a 0700 directory) serving HTTP/1.1, each
/// allowed request forwarded on the agent's own warm, authenticated connection, so that a
/// plugin invocation loads neither libcurl nor OpenSSL and makes no TLS handshake. Bodies and
/// tokens are never logged.
public final class AgentAPIProxy: Sendable {
    public let path: String
    private let channel: any Channel
    private let inode: UInt
    private let connections: OpenConnections
    private let onStop: @Sendable () -> Void

    private init(path: String, channel: any Channel, inode: UInt, connections: OpenConnections, onStop: @escaping @Sendable () -> Void) {
        self.path = path
        self.channel = channel
        self.inode = inode
        self.connections = connections
        self.onStop = onStop
    }

    /// The accepted connections still open, so that `stop()` can close them (plugins keep
    /// theirs open between requests).
    final class OpenConnections: Sendable {
        private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

        func add(_ channel: any Channel) {
            let id = ObjectIdentifier(channel)
            channels.withLock { $0[id] = channel }
            channel.closeFuture.whenComplete { [self] _ in channels.withLock { _ = $0.removeValue(forKey: id) } }
        }

        func closeAll() async {
            for channel in channels.withLock({ Array($0.values) }) { try? await channel.close() }
        }
    }

    /// A connection idle this long (a client that sends half a request and stalls) is closed;
    /// a forwarded request is bounded by the agent client's own request timeout, which is less.
    static let idleLimit: TimeAmount = .seconds(90)

    /// Binds `path` (replacing a stale socket, refusing a live one or a non-socket) and serves
    /// until `stop()`.
    /// `local` serves the agent's own endpoints (see `AgentAPIRouting.Local`); without it they
    /// answer 404. `forwardNow`, when given, forwards instead of `forward`, started on the event
    /// loop itself (no task per request). `cached` answers an allowed request from the agent's
    /// own state before it would be forwarded.
    public static func start(path: String, local: AgentAPIRouting.Local? = nil, cached: AgentAPIRouting.Cached? = nil,
                             forwardNow: AgentAPIRouting.ForwardNow? = nil,
                             forward: @escaping AgentAPIRouting.Forward, onStop: @escaping @Sendable () -> Void = {},
                             logger: Logger = Logger(label: "calico.cni-api")) async throws -> AgentAPIProxy {
        let fd = try AgentSocketListener.listen(path: path)
        let inode = AgentSocketListener.inode(of: path) ?? 0
        let channel: any Channel
        let connections = OpenConnections()
        do {
            // Per-connection handlers rather than NIOAsyncChannel: a connection accepted while
            // the server closes must not be dropped unserved (NIO traps on that).
            // One event loop for the listener and every connection: an accepted connection is
            // registered on the loop that accepted it, so accepting wakes no second thread
            // (the plugins' traffic is a few small requests per pod; one loop carries it).
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton.next())
                .childChannelInitializer { child in
                    child.eventLoop.makeCompletedFuture {
                        connections.add(child)
                        let sync = child.pipeline.syncOperations
                        try sync.addHandler(IdleStateHandler(allTimeout: idleLimit))
                        try sync.configureHTTPServerPipeline(withErrorHandling: true)
                        try sync.addHandler(AgentAPIHTTPHandler(forward: forward, forwardNow: forwardNow, cached: cached, local: local, logger: logger))
                    }
                }
                .withBoundSocket(fd).get()
        } catch {
            close(fd)
            unlink(path)
            throw AgentAPIProxyError.listen(path: path, reason: "\(error)")
        }
        logger.info("serving the CNI plugins' API requests on \(path)")
        return AgentAPIProxy(path: path, channel: channel, inode: inode, connections: connections, onStop: onStop)
    }

    /// Stops accepting, closes the open connections (an exchange in flight is cut: its plugin
    /// sees a transport error, as when the agent exits) and removes the socket file (unless
    /// another agent has bound the path since).
    public func stop() async {
        onStop()
        try? await channel.close()
        await connections.closeAll()
        if AgentSocketListener.inode(of: path) == inode { unlink(path) }
    }
}

/// One connection: collects a request, answers it through `AgentAPIRouting`, and writes the
/// answer back. NIO's HTTPServerPipelineHandler holds pipelined requests until it is done;
/// its error handler answers unparseable bytes with 400 and closes.
private final class AgentAPIHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let forward: AgentAPIRouting.Forward
    private let forwardNow: AgentAPIRouting.ForwardNow?
    private let cached: AgentAPIRouting.Cached?
    private let local: AgentAPIRouting.Local?
    private let logger: Logger
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var tooLarge = false

    init(forward: @escaping AgentAPIRouting.Forward, forwardNow: AgentAPIRouting.ForwardNow?, cached: AgentAPIRouting.Cached?,
         local: AgentAPIRouting.Local?, logger: Logger) {
        self.forward = forward
        self.forwardNow = forwardNow
        self.cached = cached
        self.local = local
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body.clear()
            tooLarge = false
        case .body(var chunk):
            if body.readableBytes + chunk.readableBytes > AgentAPIRouting.maxRequestBody { tooLarge = true } else { body.writeBuffer(&chunk) }
        case .end:
            guard let h = head else { return }
            head = nil
            if tooLarge {
                respond(context, h, AgentAPIRouting.Answer(status: 413, body: AgentAPIStatus.body(
                    code: 413, reason: "RequestEntityTooLarge", message: "request body exceeds \(AgentAPIRouting.maxRequestBody) bytes")))
                return
            }
            let bytes = body.readableBytes > 0 ? Data(body.readableBytesView) : nil
            var route = AgentAPIRouting.route(method: h.method.rawValue, target: h.uri, body: bytes,
                                              contentType: h.headers.first(name: "Content-Type"), hasLocal: local != nil)
            if case .forward(let method, let target, _, _) = route, let answer = cached?(method, target) { route = .answer(answer) }
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            switch route {
            case .answer(let answer):
                respond(context, h, answer)
            case .forward(let method, let target, let body, let type) where forwardNow != nil:
                // Straight to the HTTP client's thread and back to this loop: no task, no pool.
                let loop = context.eventLoop
                forwardNow!(method, target, body, type) { result in
                    let answer = AgentAPIRouting.forwarded(result)
                    loop.execute {
                        let (handler, context) = bound.value
                        handler.respond(context, h, answer)
                    }
                }
            case .forward(let method, let target, let body, let type):
                let forward = forward
                let promise = context.eventLoop.makePromise(of: AgentAPIRouting.Answer.self)
                promise.completeWithTask {
                    do { return AgentAPIRouting.forwarded(.success(try await forward(method, target, body, type))) } catch {
                        return AgentAPIRouting.forwarded(.failure(error))
                    }
                }
                promise.futureResult.whenSuccess { answer in
                    let (handler, context) = bound.value
                    handler.respond(context, h, answer)
                }
            case .local(let path, let bytes):
                let local = local!
                let promise = context.eventLoop.makePromise(of: AgentAPIRouting.Answer.self)
                promise.completeWithTask { await local(path, bytes) }
                promise.futureResult.whenSuccess { answer in
                    let (handler, context) = bound.value
                    handler.respond(context, h, answer)
                }
            }
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ h: HTTPRequestHead, _ answer: AgentAPIRouting.Answer) {
        guard context.channel.isActive else { return }
        if answer.status >= 400 {
            let detail = answer.status == 403 || answer.status == 400 || answer.agentError != nil
                ? ": " + AgentAPIStatus.message(String(decoding: answer.body.prefix(512), as: UTF8.self)) : ""
            logger.debug("CNI API \(h.method.rawValue) \(AgentAPIAllowList.abbreviated(h.uri)) -> \(answer.status)\(detail)")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(answer.body.count))
        headers.add(name: "Connection", value: h.isKeepAlive ? "keep-alive" : "close")
        if let e = answer.agentError { headers.add(name: AgentHTTPFraming.agentErrorHeader, value: e) }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: h.version, status: HTTPResponseStatus(statusCode: answer.status), headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: answer.body)))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !h.isKeepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) } else { context.fireUserInboundEventTriggered(event) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

public enum AgentAPIProxyError: Error, CustomStringConvertible, Equatable {
    case listen(path: String, reason: String)

    public var description: String {
        switch self {
        case .listen(let path, let reason):
            return "cannot serve the CNI API socket \(path): \(reason); set --cni-api-socket (or CALICO_CNI_API_SOCKET) to another path, or --no-cni-api"
        }
    }
}
