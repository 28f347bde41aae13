import Core
import Foundation
import NIOCore
import NIOHTTP1

/// One watch response: queued items are encoded and written as chunks of newline-delimited
/// `{"type":...,"object":...}` on the channel's event loop, many events per write.
final class WatchStream: WatchSink, @unchecked Sendable {
    private let context: NIOLoopBound<ChannelHandlerContext>
    private let eventLoop: EventLoop
    private let kind: ResourceKind
    private let table: TableConverter.IncludeObject?

    private let lock = NSLock()
    private var pending: [WatchItem] = []
    private var drainScheduled = false

    // Event-loop state.
    private var sentColumns = false
    private var finished = false
    private var onFinish: [() -> Void] = []

    init(context: ChannelHandlerContext, kind: ResourceKind, table: TableConverter.IncludeObject?) {
        self.context = NIOLoopBound(context, eventLoop: context.eventLoop)
        self.eventLoop = context.eventLoop
        self.kind = kind
        self.table = table
    }

    /// Runs once when the stream ends, however it ends (event loop only).
    func whenFinished(_ body: @escaping () -> Void) { onFinish.append(body) }

    func enqueue(_ items: [WatchItem]) {
        let schedule: Bool = lock.withLock {
            pending += items
            if drainScheduled { return false }
            drainScheduled = true
            return true
        }
        if schedule { eventLoop.execute { self.drain() } }
    }

    func abort() {
        eventLoop.execute {
            guard !self.finished else { return }
            self.context.value.close(promise: nil)
            self.finishState()
        }
    }

    /// Writes the response head (event loop only).
    func start() {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Transfer-Encoding", value: "chunked")
        headers.add(name: "Cache-Control", value: "no-cache, private")
        let ctx = context.value
        ctx.writeAndFlush(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
    }

    /// Ends the response cleanly (timeoutSeconds, or after an ERROR event).
    func end() {
        guard !finished else { return }
        context.value.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
        finishState()
    }

    /// The channel went away.
    func channelClosed() { finishState() }

    private func finishState() {
        guard !finished else { return }
        finished = true
        let callbacks = onFinish
        onFinish = []
        callbacks.forEach { $0() }
    }

    private func drain() {
        let items: [WatchItem] = lock.withLock {
            drainScheduled = false
            let taken = pending
            pending = []
            return taken
        }
        guard !finished, !items.isEmpty else { return }
        var out: [UInt8] = []
        var endAfter = false
        for item in items {
            switch item {
            case .event(let type, let object):
                line(type.rawValue, object: object, into: &out)
            case .bookmark(let rv, let initialEnd):
                var meta: [String: JSONValue] = ["resourceVersion": .string(String(rv))]
                if initialEnd { meta["annotations"] = .object(["k8s.io/initial-events-end": .string("true")]) }
                let obj: JSONValue = .object(["kind": .string(kind.kind), "apiVersion": .string(kind.apiVersion), "metadata": .object(meta)])
                out += Array("{\"type\":\"BOOKMARK\",\"object\":".utf8)
                JSONWire.write(obj, to: &out)
                out += Array("}\n".utf8)
            case .error(let e):
                out += Array("{\"type\":\"ERROR\",\"object\":".utf8)
                JSONWire.write(APIDocuments.status(e), to: &out)
                out += Array("}\n".utf8)
                endAfter = true
            }
            if endAfter { break }
        }
        let ctx = context.value
        var buffer = ctx.channel.allocator.buffer(capacity: out.count)
        buffer.writeBytes(out)
        ctx.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer))), promise: nil)
        if endAfter { end() }
    }

    private func line(_ type: String, object: StoredObject, into out: inout [UInt8]) {
        out += Array("{\"type\":\"\(type)\",\"object\":".utf8)
        if let table {
            let t = TableConverter.table(kind, [object.value], resourceVersion: object.resourceVersion, include: table, withColumns: !sentColumns)
            sentColumns = true
            JSONWire.write(t, to: &out)
        } else {
            out += object.json
        }
        out += Array("}\n".utf8)
    }
}
