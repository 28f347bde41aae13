#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The calico-node agent's API endpoint for the CNI plugins on its node (the design Cilium's
/// agent uses): a root-only unix socket (0600 in a 0700 directory) serving HTTP/1.1, each
/// allowed request forwarded on the agent's own warm, authenticated connection, so that a
/// plugin invocation loads neither libcurl nor OpenSSL and makes no TLS handshake. Bodies and
/// tokens are never logged.
public final class AgentAPIProxy: Sendable {
    public let path: String
    private let channel: any Channel
    private let acceptTask: Task<Void, Never>
    private let inode: UInt

    private init(path: String, channel: any Channel, acceptTask: Task<Void, Never>, inode: UInt) {
        self.path = path
        self.channel = channel
        self.acceptTask = acceptTask
        self.inode = inode
    }

    /// An exchange that takes longer than this (a client that sends half a request and stalls)
    /// is cut; the forwarded request itself is bounded by the agent client's request timeout.
    static let connectionLimit: TimeAmount = .seconds(90)

    /// Binds `path` (replacing a stale socket, refusing a live one or a non-socket) and serves
    /// until `stop()`.
    public static func start(path: String, forward: @escaping AgentAPIRouting.Forward,
                             logger: Logger = Logger(label: "calico.cni-api")) async throws -> AgentAPIProxy {
        let fd = try AgentSocketListener.listen(path: path)
        let inode = AgentSocketListener.inode(of: path) ?? 0
        let server: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
        do {
            server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(fd) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            close(fd)
            unlink(path)
            throw AgentAPIProxyError.listen(path: path, reason: "\(error)")
        }
        let task = Task {
            await withDiscardingTaskGroup { group in
                do {
                    try await server.executeThenClose { inbound in
                        for try await connection in inbound {
                            group.addTask { await serve(connection, forward: forward, logger: logger) }
                        }
                    }
                } catch {
                    // The listening socket closed (stop() or an error): stop accepting.
                }
                group.cancelAll()
            }
        }
        logger.info("serving the CNI plugins' API requests on \(path)")
        return AgentAPIProxy(path: path, channel: server.channel, acceptTask: task, inode: inode)
    }

    /// Stops accepting, closes open connections and removes the socket file (unless another
    /// agent has bound the path since).
    public func stop() async {
        try? await channel.close()
        acceptTask.cancel()
        await acceptTask.value
        if AgentSocketListener.inode(of: path) == inode { unlink(path) }
    }

    private static func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>,
                              forward: @escaping AgentAPIRouting.Forward, logger: Logger) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await exchange(inbound, outbound, forward: forward, logger: logger) }
                    group.addTask {
                        try await Task.sleep(for: .nanoseconds(connectionLimit.nanoseconds))
                        throw CancellationError()
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        } catch {
            // Garbage (NIO has answered 400), a client gone, or the limit: nothing more to say.
            logger.debug("CNI API connection ended: \(error)")
        }
    }

    private static func exchange(_ inbound: NIOAsyncChannelInboundStream<HTTPServerRequestPart>,
                                 _ outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>,
                                 forward: AgentAPIRouting.Forward, logger: Logger) async throws {
        var head: HTTPRequestHead?
        var body = ByteBuffer()
        var tooLarge = false
        for try await part in inbound {
            switch part {
            case .head(let h):
                head = h
                body.clear()
                tooLarge = false
            case .body(var chunk):
                if body.readableBytes + chunk.readableBytes > AgentAPIRouting.maxRequestBody { tooLarge = true } else { body.writeBuffer(&chunk) }
            case .end:
                guard let h = head else { continue }
                head = nil
                let answer: AgentAPIRouting.Answer
                if tooLarge {
                    answer = AgentAPIRouting.Answer(status: 413, body: AgentAPIStatus.body(code: 413, reason: "RequestEntityTooLarge",
                                                                                          message: "request body exceeds \(AgentAPIRouting.maxRequestBody) bytes"))
                } else {
                    let bytes = body.readableBytes > 0 ? Data(body.readableBytesView) : nil
                    answer = await AgentAPIRouting.answer(method: h.method.rawValue, target: h.uri, body: bytes,
                                                          contentType: h.headers.first(name: "Content-Type"), forward: forward)
                }
                if answer.status >= 400 {
                    let what = answer.status == 403 || answer.status == 400 || answer.agentError != nil
                        ? ": " + AgentAPIStatus.message(String(decoding: answer.body.prefix(512), as: UTF8.self)) : ""
                    logger.debug("CNI API \(h.method.rawValue) \(AgentAPIAllowList.abbreviated(h.uri)) -> \(answer.status)\(what)")
                }
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: "application/json")
                headers.add(name: "Content-Length", value: String(answer.body.count))
                headers.add(name: "Connection", value: h.isKeepAlive ? "keep-alive" : "close")
                if let e = answer.agentError { headers.add(name: AgentHTTPFraming.agentErrorHeader, value: e) }
                try await outbound.write(.head(HTTPResponseHead(version: h.version, status: HTTPResponseStatus(statusCode: answer.status), headers: headers)))
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: answer.body))))
                try await outbound.write(.end(nil))
                if !h.isKeepAlive { return }
            }
        }
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
