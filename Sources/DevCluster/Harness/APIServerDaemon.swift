import Foundation

/// The cluster's API server: this executable's `apiserver` subcommand started as a detached
/// child (own session), so it keeps serving after `up` returns; `down` stops it by pid.
enum APIServerDaemon {
    /// Part of the daemon's command line, checked before signalling a recorded pid.
    static let marker = "apiserver"

    static func start(executable: String, bind: String, port: Int, dataDir: String) throws -> HarnessState.APIServerProcess {
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        let out = dataDir + "/apiserver.out", log = dataDir + "/apiserver.log"
        try? FileManager.default.removeItem(atPath: out)
        let pid = try HarnessShell.spawnDetached([executable, "apiserver", "--bind", bind, "--port", String(port), "--data-dir", dataDir],
                                                 stdout: out, stderr: log)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: out, encoding: .utf8), let url = listeningURL(text) {
                return .init(pid: pid, url: url, kubeconfig: dataDir + "/admin.kubeconfig", log: log)
            }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { break }
            usleep(50_000)
        }
        HarnessShell.stop(pid, marker: marker)
        let tail = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").suffix(1500)
        throw HarnessError("the API server did not come up on \(bind):\(port) within 30s; its log (\(log)):\n\(tail)")
    }

    /// `https://HOST:PORT` from the server's "listening on ..." line, once it is complete.
    static func listeningURL(_ text: String) -> String? {
        guard let r = text.range(of: "listening on ") else { return nil }
        let rest = text[r.upperBound...]
        guard let nl = rest.firstIndex(of: "\n") else { return nil }
        return String(rest[..<nl])
    }
}
