import Foundation

/// Redirects this process's file descriptor 2 into a file until `finish()`, which restores it,
/// copies what was captured to the real standard error and returns it. For catching messages
/// that libraries print instead of reporting (SwiftNIO's "Cannot schedule tasks ...").
final class StandardErrorCapture {
    private let path: String
    private let saved: Int32

    init(directory: String) throws {
        path = directory + "/stderr-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).txt"
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CommandError(command: "create \(path)", output: "cannot capture standard error there")
        }
        let fd = open(path, O_WRONLY | O_APPEND)
        saved = dup(2)
        dup2(fd, 2)
        close(fd)
    }

    func finish() -> String {
        dup2(saved, 2)
        close(saved)
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        FileHandle.standardError.write(Data(text.utf8))
        try? FileManager.default.removeItem(atPath: path)
        return text
    }
}
