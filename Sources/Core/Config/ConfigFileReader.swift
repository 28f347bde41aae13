import Foundation

/// How configuration reads files: the real file system in production, a dictionary in tests, so
/// that the loader stays a pure function of its inputs.
public struct ConfigFileReader: Sendable {
    public enum Outcome: Sendable, Equatable {
        case contents(Data)
        case notFound
        case unreadable(reason: String)
    }

    public let read: @Sendable (String) -> Outcome

    public init(read: @escaping @Sendable (String) -> Outcome) {
        self.read = read
    }

    /// The local file system.
    public static let local = ConfigFileReader { path in
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return .notFound }
        if isDirectory.boolValue { return .unreadable(reason: "it is a directory") }
        guard let data = FileManager.default.contents(atPath: path) else {
            return .unreadable(reason: "permission denied or I/O error")
        }
        return .contents(data)
    }

    /// Files held in memory, keyed by path; anything else does not exist.
    public static func inMemory(_ files: [String: Data]) -> ConfigFileReader {
        ConfigFileReader { path in files[path].map(Outcome.contents) ?? .notFound }
    }

    /// The file's bytes, or the typed error that names the file and what it was for.
    func contents(of path: String, purpose: String) throws(DatastoreConfigError) -> Data {
        switch read(path) {
        case .contents(let data): return data
        case .notFound: throw .fileNotFound(path: path, purpose: purpose)
        case .unreadable(let reason): throw .fileUnreadable(path: path, purpose: purpose, reason: reason)
        }
    }

    /// PEM material from a file: its bytes, checked to hold a PEM block.
    func pem(at path: String, purpose: String, what: String) throws(DatastoreConfigError) -> Data {
        let data = try contents(of: path, purpose: purpose)
        try PEMCheck.require(data, source: "\(purpose) \(path)", what: what)
        return data
    }
}

/// A light sanity check, so that a DER file or a wrongly decoded -data field fails here with the
/// file's name rather than later inside the TLS handshake.
enum PEMCheck {
    static func require(_ data: Data, source: String, what: String) throws(DatastoreConfigError) {
        guard data.range(of: Data("-----BEGIN ".utf8)) != nil else { throw .notPEM(source: source, what: what) }
    }
}
