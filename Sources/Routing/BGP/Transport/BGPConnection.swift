import NIOCore

/// One TCP connection to a peer, confined to the speaker's event loop.
final class BGPConnection {
    let id: Int
    let channel: Channel
    let origin: ConnectionOrigin
    var framer = MessageFramer()
    /// Completes when everything written so far is on the wire; closing waits for it so that
    /// a final NOTIFICATION is not lost.
    private var lastWrite: EventLoopFuture<Void>?
    /// For a colliding second connection: our OPEN already went out on it.
    var openSent = false

    init(id: Int, channel: Channel, origin: ConnectionOrigin) {
        self.id = id
        self.channel = channel
        self.origin = origin
    }

    func send(_ message: BGPMessage, context: WireContext, flush: Bool = true) {
        let bytes = message.encode(context: context)
        let buffer = channel.allocator.buffer(bytes: bytes)
        let promise = channel.eventLoop.makePromise(of: Void.self)
        if flush { channel.writeAndFlush(buffer, promise: promise) } else { channel.write(buffer, promise: promise) }
        lastWrite = promise.futureResult
    }

    func flush() { channel.flush() }

    func close() {
        let channel = self.channel
        channel.flush()
        let done = lastWrite ?? channel.eventLoop.makeSucceededVoidFuture()
        done.whenComplete { _ in channel.close(promise: nil) }
    }

    /// Our address on this connection (IPv4-mapped addresses as IPv4).
    var localAddress: IPAddress? { channel.localAddress.flatMap(IPAddress.init(socketAddress:)) }
    var remoteAddress: IPAddress? { channel.remoteAddress.flatMap(IPAddress.init(socketAddress:)) }
}

extension IPAddress {
    init?(socketAddress: SocketAddress) {
        guard let text = socketAddress.ipAddress, let parsed = IPAddress(text) else { return nil }
        if case .v6(0, let lo) = parsed, lo >> 32 == 0xFFFF { self = .v4(UInt32(truncatingIfNeeded: lo)) } else { self = parsed }
    }
}

/// Hands bytes and connection events to the speaker; all on the speaker's loop.
final class BGPChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let speaker: BGPSpeaker
    let origin: ConnectionOrigin
    var connection: BGPConnection?

    init(speaker: BGPSpeaker, origin: ConnectionOrigin) {
        self.speaker = speaker
        self.origin = origin
    }

    func channelActive(context: ChannelHandlerContext) {
        connection = speaker.connectionUp(context.channel, origin: origin)
        if connection == nil { context.close(promise: nil) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        guard let connection, let bytes = buffer.readBytes(length: buffer.readableBytes) else { return }
        speaker.received(bytes, on: connection)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let connection { speaker.connectionClosed(connection) }
        connection = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
