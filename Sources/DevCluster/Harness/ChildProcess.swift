#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// posix_spawn with pipes for stdin/stdout/stderr, then waitpid. Foundation's Process costs
/// about 100 ms per child here (its exit monitoring), which made a pod add take 0.35 s.
enum ChildProcess {
    /// Pipes are made close-on-exec and the child spawned under one lock, so a child spawned
    /// by another thread never inherits (and holds open) another child's pipe.
    private static let spawnLock = NSLock()

    static func run(_ argv: [String], environment: [String: String], stdin: Data) throws -> HarnessShell.Output {
        var inPipe: [Int32] = [-1, -1], outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        var pid: pid_t = 0
        let rc: Int32 = spawnLock.withLock {
            for i in 0..<3 {
                let made = i == 0 ? pipe(&inPipe) : i == 1 ? pipe(&outPipe) : pipe(&errPipe)
                if made != 0 { return errno }
            }
            for fd in inPipe + outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
            posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
            posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
            let cargs = argv.map { strdup($0) } + [nil]
            let cenv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer { (cargs + cenv).forEach { free($0) } }
            return posix_spawn(&pid, argv[0], &actions, nil, cargs, cenv)
        }
        // The parent keeps only its ends.
        for fd in [inPipe[0], outPipe[1], errPipe[1]] where fd >= 0 { close(fd) }
        guard rc == 0 else {
            for fd in [inPipe[1], outPipe[0], errPipe[0]] where fd >= 0 { close(fd) }
            throw HarnessError("cannot run \(argv[0]): \(String(cString: strerror(rc)))")
        }
        let writer = inPipe[1]
        let input = stdin
        let errBox = Box()
        let group = DispatchGroup()
        group.enter()
        Thread.detachNewThread {
            writeAll(writer, input)
            close(writer)
            group.leave()
        }
        group.enter()
        let errFD = errPipe[0]
        Thread.detachNewThread {
            errBox.data = readAll(errFD)
            group.leave()
        }
        let out = readAll(outPipe[0])
        group.wait()
        close(outPipe[0])
        close(errPipe[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // Exit status, or 128 + signal as a shell reports it.
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return HarnessShell.Output(status: code, out: out, err: String(decoding: errBox.data, as: UTF8.self))
    }

    private static func readAll(_ fd: Int32) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 { data.append(contentsOf: buffer[0..<n]); continue }
            if n < 0 && errno == EINTR { continue }
            return data
        }
    }

    private static func writeAll(_ fd: Int32, _ data: Data) {
        let bytes = [UInt8](data)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { return }
        }
    }

    private final class Box: @unchecked Sendable { var data = Data() }
}
