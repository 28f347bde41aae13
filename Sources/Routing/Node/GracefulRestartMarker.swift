import Foundation

/// A small file that says "this node's BGP role stopped for a graceful restart at time T".
/// Written when the role stops that way (SIGTERM); read once by the next start, which comes
/// up as a restarting speaker (RFC 4724 R bit) when T lies within the advertised restart time,
/// i.e. while peers still hold our routes. A crash writes nothing, so the next start is a
/// plain one (peers that kept our routes still replace them at our End-of-RIB).
public struct GracefulRestartMarker: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// Records a graceful stop at `date` (seconds since 1970, one line).
    public func write(stoppedAt date: Date = Date()) throws {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        try "\(Int(date.timeIntervalSince1970))\n".write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Reads and removes the marker: true when it records a graceful stop no more than
    /// `restartSeconds` before `now` (a marker from the future, e.g. after a clock step, counts
    /// as stale).
    public func consume(restartSeconds: Double, now: Date = Date()) -> Bool {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return false }
        try? FileManager.default.removeItem(atPath: path)
        guard let seconds = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return false }
        let age = now.timeIntervalSince1970 - seconds
        return age >= 0 && age < restartSeconds
    }
}
