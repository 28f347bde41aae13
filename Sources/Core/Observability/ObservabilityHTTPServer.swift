import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// One answer of an observability endpoint.
public struct ObservabilityResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]

    public init(status: Int, contentType: String, body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    public static func json(_ status: Int, _ body: [UInt8]) -> ObservabilityResponse {
        ObservabilityResponse(status: status, contentType: "application/json", body: body)
    }

    public static func text(_ status: Int, _ text: String) -> ObservabilityResponse {
        ObservabilityResponse(status: status, contentType: "text/plain; charset=utf-8", body: Array(text.utf8))
    }
}

/// Maps a request path (without query) and method to an answer. Pure, so it is tested without sockets.
public typealias ObservabilityRouter = @Sendable (_ method: String, _ path: String) async -> ObservabilityResponse

/// A small HTTP/1.1 server on SwiftNIO for the health and metrics endpoints: GET only, small
/// answers, one task per connection.
public final class ObservabilityHTTPServer: Sendable {
    public let address: ObservabilityAddress
    private let channel: any Channel
    private let acceptTask: Task<Void, Never>

    private init(address: ObservabilityAddress, channel: any Channel, acceptTask: Task<Void, Never>) {
        self.address = address
        self.channel = channel
        self.acceptTask = acceptTask
    }

    /// The port actually bound (differs from the requested one when it was 0).
    public var port: Int { address.port }

    /// Binds and starts serving; returns once connections are accepted.
    public static func start(at requested: ObservabilityAddress, router: @escaping ObservabilityRouter) async throws -> ObservabilityHTTPServer {
        let server: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
        do {
            server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: requested.host, port: requested.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw ObservabilityError.bindFailed(address: requested, reason: "\(error)")
        }
        let bound = ObservabilityAddress(host: requested.host, port: server.channel.localAddress?.port ?? requested.port)
        let task = Task {
            await withDiscardingTaskGroup { group in
                do {
                    try await server.executeThenClose { inbound in
                        for try await connection in inbound {
                            group.addTask { await serve(connection, router: router) }
                        }
                    }
                } catch {
                    // The listening socket closed (stop() or an error): stop accepting.
                }
                group.cancelAll()
            }
        }
        return ObservabilityHTTPServer(address: bound, channel: server.channel, acceptTask: task)
    }

    /// Stops accepting and closes open connections.
    public func stop() async {
        try? await channel.close()
        acceptTask.cancel()
        await acceptTask.value
    }

    private static func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, router: ObservabilityRouter) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                try await exchange(inbound, outbound, router: router)
            }
        } catch {
            // The client went away or sent garbage: nothing to answer.
        }
    }

    private static func exchange(
        _ inbound: NIOAsyncChannelInboundStream<HTTPServerRequestPart>,
        _ outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>,
        router: ObservabilityRouter
    ) async throws {
        var head: HTTPRequestHead?
        for try await part in inbound {
            switch part {
            case .head(let h): head = h
            case .body: continue
            case .end:
                guard let h = head else { continue }
                head = nil
                let path = String(h.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                let answer = await router(h.method.rawValue, path)
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: answer.contentType)
                headers.add(name: "Content-Length", value: String(answer.body.count))
                headers.add(name: "Connection", value: h.isKeepAlive ? "keep-alive" : "close")
                let status = HTTPResponseStatus(statusCode: answer.status)
                try await outbound.write(.head(HTTPResponseHead(version: h.version, status: status, headers: headers)))
                if h.method != .HEAD { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: answer.body)))) }
                try await outbound.write(.end(nil))
                if !h.isKeepAlive { return }
            }
        }
    }
}

public enum ObservabilityError: Error, CustomStringConvertible, Equatable {
    case bindFailed(address: ObservabilityAddress, reason: String)

    public var description: String {
        switch self {
        case .bindFailed(let a, let reason):
            return "cannot listen on \(a) (\(reason)); choose another address or port, or stop the process that holds it"
        }
    }
}
