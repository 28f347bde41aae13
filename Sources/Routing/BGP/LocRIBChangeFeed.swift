/// Loc-RIB changes for the kernel route programmer, pulled rather than pushed: the speaker only
/// marks which prefixes changed (a bit in the RIB's slot and a packed queue entry), and each
/// `next()` takes up to `batchLimit` of them with their selection as it is at that moment.
/// A kernel that lags behind a full table therefore holds no queue of route values, and a
/// prefix that changed several times while waiting is programmed once.
public struct LocRIBChangeFeed: AsyncSequence, Sendable {
    public typealias Element = [LocRIBChange]
    let speaker: BGPSpeaker

    public struct AsyncIterator: AsyncIteratorProtocol {
        let speaker: BGPSpeaker
        public mutating func next() async -> [LocRIBChange]? { await speaker.nextKernelBatch() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(speaker: speaker) }
}
