import Core
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

/// Settings every connection shares.
struct ConnectionSettings: Sendable {
    var router: APIRouter
    var token: String
    var bookmarkInterval: TimeAmount
    var maxBodyBytes = 32 << 20
    var logRequests = false
    var logger: Logger
}

/// One HTTP/1.1 connection: collects each request, authenticates it (bearer token, or a client
/// certificate the TLS layer already verified against the cluster CA), and writes the router's
/// answer, or streams a watch until it ends.
final class APIHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let settings: ConnectionSettings
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false
    private var watch: WatchStream?

    init(settings: ConnectionSettings) { self.settings = settings }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = []
            tooLarge = false
        case .body(var buf):
            if body.count + buf.readableBytes > settings.maxBodyBytes { tooLarge = true; return }
            body += buf.readBytes(length: buf.readableBytes) ?? []
        case .end:
            guard let h = head else { return }
            head = nil
            respond(context: context, head: h)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        watch?.channelClosed()
        watch = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private func authenticated(_ context: ChannelHandlerContext, _ h: HTTPRequestHead) -> Bool {
        if let auth = h.headers.first(name: "Authorization"), auth.hasPrefix("Bearer ") {
            return Self.constantTimeEqual(Array(auth.utf8.dropFirst(7)), Array(settings.token.utf8))
        }
        // With optionalVerification a presented certificate has already been verified.
        return ((try? context.pipeline.syncOperations.nioSSL_peerCertificate()) ?? nil) != nil
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }

    private func respond(context: ChannelHandlerContext, head h: HTTPRequestHead) {
        let keepAlive = h.isKeepAlive
        if tooLarge {
            return write(context, .json(status: 413, APIDocuments.status(code: 413, reason: "RequestEntityTooLarge", message: "request body too large")), keepAlive: false)
        }
        guard authenticated(context, h) else {
            return write(context, .json(status: 401, APIDocuments.status(code: 401, reason: "Unauthorized", message: "Unauthorized")), keepAlive: keepAlive)
        }
        let request = APIRequest(method: h.method.rawValue, uri: h.uri, accept: h.headers.first(name: "Accept") ?? "",
                                 contentType: h.headers.first(name: "Content-Type") ?? "", body: body)
        body = []
        let response = settings.router.handle(request)
        if settings.logRequests {
            settings.logger.info("\(h.method.rawValue) \(h.uri) -> \(response.statusDescription)")
        }
        if case .watch(let w) = response {
            startWatch(context, w)
        } else {
            write(context, response, keepAlive: keepAlive)
        }
    }

    private func write(_ context: ChannelHandlerContext, _ response: APIResponse, keepAlive: Bool) {
        let status: Int, contentType: String, bytes: [UInt8]
        switch response {
        case .json(let s, let v): (status, contentType, bytes) = (s, "application/json", JSONWire.encode(v))
        case .bytes(let s, let t, let b): (status, contentType, bytes) = (s, t, b)
        case .watch: return
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(bytes.count))
        headers.add(name: "Cache-Control", value: "no-cache, private")
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers))), promise: nil)
        var buf = context.channel.allocator.buffer(capacity: bytes.count)
        buf.writeBytes(bytes)
        context.write(wrapOutboundOut(.body(.byteBuffer(buf))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive { done.whenComplete { [context = NIOLoopBound(context, eventLoop: context.eventLoop)] _ in context.value.close(promise: nil) } }
    }

    private func startWatch(_ context: ChannelHandlerContext, _ w: WatchRequest) {
        let stream = WatchStream(context: context, kind: w.filter.kind, table: w.table)
        watch = stream
        stream.start()
        let store = settings.router.store
        let id: Int?
        do {
            id = try store.watch(w.filter, from: w.resourceVersion, sendInitialEvents: w.sendInitialEvents, sink: stream)
        } catch {
            stream.enqueue([.error(error)])
            return
        }
        guard let id else { return }  // an ERROR (410) was queued; the stream ends after it
        let kind = w.filter.kind
        var tasks: [Scheduled<Void>] = []
        var repeated: RepeatedTask?
        if w.bookmarks {
            repeated = context.eventLoop.scheduleRepeatedTask(initialDelay: settings.bookmarkInterval, delay: settings.bookmarkInterval) { _ in
                store.bookmark(id, kind: kind)
            }
        }
        if let t = w.timeoutSeconds, t > 0 {
            tasks.append(context.eventLoop.scheduleTask(in: .seconds(Int64(t))) { stream.end() })
        }
        let loopBoundSelf = NIOLoopBound(self, eventLoop: context.eventLoop)
        stream.whenFinished {
            store.unwatch(id, kind: kind)
            repeated?.cancel()
            tasks.forEach { $0.cancel() }
            if loopBoundSelf.value.watch === stream { loopBoundSelf.value.watch = nil }
        }
    }
}

extension APIResponse {
    var statusDescription: String {
        switch self {
        case .json(let s, _), .bytes(let s, _, _): String(s)
        case .watch: "watch"
        }
    }
}
