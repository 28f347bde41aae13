/// Splits a TCP byte stream into whole messages. Only the header is checked before buffering a
/// body, so a hostile length can never make it hold more than one maximum-size message.
public struct MessageFramer: Sendable {
    public var context: WireContext
    private var buffer: [UInt8] = []
    private var start = 0

    public init(context: WireContext = WireContext()) { self.context = context }

    /// Octets received but not yet returned as a message.
    public var bufferedCount: Int { buffer.count - start }

    public mutating func append<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete message's octets, nil if more input is needed. Throws the NOTIFICATION
    /// for a bad header; the stream cannot be resynchronised after that.
    public mutating func next() throws(NotificationMessage) -> [UInt8]? {
        guard bufferedCount >= BGPMessage.headerLength else { return nil }
        let header = Array(buffer[start..<start + BGPMessage.headerLength])
        let (_, length) = try BGPMessage.checkHeader(header, context: context)
        guard bufferedCount >= length else { return nil }
        let message = Array(buffer[start..<start + length])
        start += length
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        return message
    }

    /// The next decoded message, nil if more input is needed.
    public mutating func nextMessage() throws(NotificationMessage) -> BGPMessage? {
        guard let bytes = try next() else { return nil }
        return try BGPMessage.decode(bytes, context: context)
    }
}
