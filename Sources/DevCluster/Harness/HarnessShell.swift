#if canImport(Glibc)
import Glibc
#endif
import Core
import Foundation

/// Child processes for the harness: commands run to completion (optionally from inside a
/// network namespace, as the kubelet execs CNI plugins from the node's), and the detached API
/// server daemon.
enum HarnessShell {
    struct Output: Sendable {
        var status: Int32
        var out: Data
        var err: String
        var outText: String { String(decoding: out, as: UTF8.self) }
    }

    /// Runs `argv` (a path, or a name looked up on PATH) and collects its output. With `netns`
    /// it runs through `ip netns exec`, which also gives it the namespace's own /sys (as a
    /// process on that node would see it; plugins read and write /sys/class/net).
    static func run(_ argv: [String], environment: [String: String]? = nil, stdin: Data? = nil, netns: String? = nil) throws -> Output {
        guard let first = argv.first else { throw HarnessError("empty command") }
        let exe = first.contains("/") ? first : (which(first) ?? first)
        let full = netns.map { [which("ip") ?? "/usr/sbin/ip", "netns", "exec", $0, exe] + argv.dropFirst() } ?? [exe] + argv.dropFirst()
        return try ChildProcess.run(full, environment: environment ?? ProcessInfo.processInfo.environment, stdin: stdin ?? Data())
    }

    /// Runs and requires success; the error shows the command and its stderr.
    @discardableResult
    static func check(_ argv: [String], netns: String? = nil) throws -> Output {
        let r = try run(argv, netns: netns)
        guard r.status == 0 else {
            throw HarnessError("`\(argv.joined(separator: " "))` failed (exit \(r.status)): \(r.err.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return r
    }

    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        return (path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]).map { $0 + "/" + name }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Starts `argv` in its own session (it outlives us and our terminal), stdin from /dev/null,
    /// stdout and stderr appended to the given files, no other descriptors inherited.
    static func spawnDetached(_ argv: [String], stdout: String, stderr: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        // posix_spawn_file_actions_addclosefrom_np is not visible from Swift; close each one.
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap({ Int32($0) }) where fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setflags(&attr, Int16(posixSpawnSetsid | POSIX_SPAWN_SETSIGMASK))
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var pid: pid_t = 0
        let cargs = argv.map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) } }
        let rc = posix_spawn(&pid, argv[0], &actions, &attr, cargs, environ)
        guard rc == 0 else { throw HarnessError("cannot start \(argv[0]): \(String(cString: strerror(rc)))") }
        return pid
    }

    /// Whether `pid` is alive and runs a program whose command line contains `marker` (so a
    /// recycled pid is never signalled).
    static func isOurProcess(_ pid: pid_t, marker: String) -> Bool {
        guard pid > 0, let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        return String(decoding: data, as: UTF8.self).contains(marker)
    }

    /// SIGTERM, then SIGKILL after `grace` seconds; reaps the child if it is ours.
    static func stop(_ pid: pid_t, marker: String, grace: Double = 5) {
        guard isOurProcess(pid, marker: marker) else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while Date() < deadline {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { return }
            // Gone, or a zombie awaiting a reaper that is not us (its cmdline is then empty).
            if kill(pid, 0) != 0 || !isOurProcess(pid, marker: marker) { return }
            usleep(20_000)
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
    }
}

/// glibc's POSIX_SPAWN_SETSID (a _GNU_SOURCE macro Swift does not import).
private let posixSpawnSetsid: Int32 = 0x80
