import Foundation

/// Splits a byte stream into newline-terminated lines however the stream was chunked (a watch
/// body is one JSON object per line, and TCP cuts it anywhere). Empty lines are dropped and a
/// trailing CR is removed.
struct LineSplitter: Sendable {
    /// A line longer than this is treated as a broken stream, not buffered forever.
    static let defaultMaxLineLength = 64 << 20

    struct LineTooLong: Error, Equatable, CustomStringConvertible {
        var limit: Int
        var description: String { "a line of the stream exceeds \(limit) bytes" }
    }

    private var partial: [UInt8] = []
    let maxLineLength: Int

    init(maxLineLength: Int = LineSplitter.defaultMaxLineLength) {
        self.maxLineLength = maxLineLength
    }

    /// The lines `chunk` completes, in order.
    mutating func append(_ chunk: Data) throws -> [Data] {
        var lines: [Data] = []
        var start = chunk.startIndex
        while let newline = chunk[start...].firstIndex(of: 0x0A) {
            if partial.isEmpty {
                emit(chunk[start..<newline], into: &lines)
            } else {
                partial.append(contentsOf: chunk[start..<newline])
                emit(partial[...], into: &lines)
                partial.removeAll(keepingCapacity: true)
            }
            start = chunk.index(after: newline)
        }
        partial.append(contentsOf: chunk[start...])
        if partial.count > maxLineLength {
            partial.removeAll()
            throw LineTooLong(limit: maxLineLength)
        }
        return lines
    }

    /// What remains once the stream has ended: a last line without a newline, if any.
    mutating func finish() -> Data? {
        var lines: [Data] = []
        emit(partial[...], into: &lines)
        partial.removeAll()
        return lines.first
    }

    private func emit<C: Collection>(_ bytes: C, into lines: inout [Data]) where C.Element == UInt8 {
        var line = Data(bytes)
        if line.last == 0x0D { line.removeLast() }
        if line.contains(where: { $0 != 0x20 && $0 != 0x09 }) { lines.append(line) }
    }
}
