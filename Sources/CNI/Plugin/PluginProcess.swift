#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Runs a delegated plugin the way the spec says a runtime runs one: the given environment, the
/// config on stdin, its stdout collected, its stderr passed straight through to ours (so the
/// kubelet's log shows the delegate's messages). posix_spawn rather than Foundation's Process:
/// no run loop thread, and a child costs only the fork-exec, which matters because every pod
/// start pays for it.
enum PluginProcess {
    struct Outcome: Sendable {
        var status: Int32
        var stdout: Data
    }

    static func run(path: String, environment: [String: String], stdin: Data) throws(CNIError) -> Outcome {
        var toChild: [Int32] = [-1, -1]
        var fromChild: [Int32] = [-1, -1]
        guard cloexecPipe(&toChild) else { throw spawnError(path, "pipe") }
        guard cloexecPipe(&fromChild) else {
            close(toChild[0]); close(toChild[1])
            throw spawnError(path, "pipe")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 clears FD_CLOEXEC on the target, so only fds 0, 1 and 2 reach the child.
        posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)

        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        // We ignore SIGPIPE (a delegate that exits early must not kill us); the child gets the
        // default back.
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attr, argv, envp)
        close(toChild[0])
        close(fromChild[1])
        guard rc == 0 else {
            close(toChild[1]); close(fromChild[0])
            throw spawnError(path, String(cString: strerror(rc)))
        }
        // A config larger than the pipe buffer must not deadlock against a child that writes
        // before it has read everything, so big inputs are written from another thread.
        let writeFD = toChild[1]
        if stdin.count <= 16 * 1024 {
            writeAll(writeFD, stdin)
            close(writeFD)
        } else {
            let data = stdin
            Thread.detachNewThread { writeAll(writeFD, data); close(writeFD) }
        }
        let out = readAll(fromChild[0])
        close(fromChild[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS by hand: the C macros are not imported.
        let exited = status & 0x7f == 0
        return Outcome(status: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), stdout: out)
    }

    /// pipe(2) with FD_CLOEXEC on both ends (Glibc's module does not export pipe2).
    private static func cloexecPipe(_ fds: inout [Int32]) -> Bool {
        guard pipe(&fds) == 0 else { return false }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return true
    }

    private static func spawnError(_ path: String, _ why: String) -> CNIError {
        CNIError(.ipamFailure, "cannot run IPAM plugin \(path): \(why)")
    }

    private static func writeAll(_ fd: Int32, _ data: Data) {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; return }
                offset += n
            }
        }
    }

    private static func readAll(_ fd: Int32) -> Data {
        var out = Data()
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; break }
            if n == 0 { break }
            out.append(contentsOf: buffer[..<n])
        }
        return out
    }
}
