import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The bearer token for each request: a literal token, or a file that is re-read whenever its
/// modification time or size changes (projected service-account tokens rotate in place).
/// The token is never logged nor put into an error message.
final class BearerTokenSource: @unchecked Sendable {
    private let literal: String?
    private let file: String?
    private let lock = NSLock()
    // Guarded by `lock`.
    private var cachedStamp: FileStamp?
    private var cachedToken: String?

    struct FileStamp: Equatable {
        var seconds: Int
        var nanoseconds: Int
        var size: Int
    }

    init(token: String?, tokenFile: String?) {
        literal = token.flatMap { $0.isEmpty ? nil : $0 }
        file = tokenFile.flatMap { $0.isEmpty ? nil : $0 }
    }

    var isConfigured: Bool { literal != nil || file != nil }

    /// The current token. A token file takes precedence; when it cannot be read, the last token
    /// read from it, then the literal token, is used; with neither, the error names the file.
    func current() throws -> String? {
        guard let file else { return literal }
        return try lock.withLock {
            guard let stamp = Self.stamp(of: file) else {
                if let fallback = cachedToken ?? literal { return fallback }
                throw HTTPTransportError(message: "cannot read the bearer token file \(file): \(String(cString: strerror(errno)))")
            }
            if stamp == cachedStamp, let cachedToken { return cachedToken }
            guard let data = FileManager.default.contents(atPath: file) else {
                if let fallback = cachedToken ?? literal { return fallback }
                throw HTTPTransportError(message: "cannot read the bearer token file \(file)")
            }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            cachedStamp = stamp
            cachedToken = token.isEmpty ? nil : token
            return cachedToken ?? literal
        }
    }

    private static func stamp(of path: String) -> FileStamp? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return FileStamp(seconds: Int(st.st_mtim.tv_sec), nanoseconds: Int(st.st_mtim.tv_nsec), size: Int(st.st_size))
    }
}
