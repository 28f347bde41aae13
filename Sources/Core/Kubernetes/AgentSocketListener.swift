#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The listening end of the agent's unix socket, made by hand so that its mode is 0600 from
/// the moment it exists (fchmod before bind: Linux gives the new inode the socket's mode), in
/// a directory created 0700; there is no window in which another user could connect.
enum AgentSocketListener {
    static func listen(path: String) throws -> Int32 {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw AgentAPIProxyError.listen(path: path, reason: "cannot create directory \(directory): \(error)")
            }
        }
        var st = stat()
        if lstat(path, &st) == 0 {
            guard st.st_mode & S_IFMT == S_IFSOCK else {
                throw AgentAPIProxyError.listen(path: path, reason: "it exists and is not a socket; remove it")
            }
            if AgentSocket.isServing(path) {
                throw AgentAPIProxyError.listen(path: path, reason: "another process serves it (a second calico-node?)")
            }
            unlink(path)  // stale: its agent is gone
        }
        var address: sockaddr_un
        do { address = try UnixSocketConnection.address(path) } catch {
            throw AgentAPIProxyError.listen(path: path, reason: error.message)
        }
        let fd = socket(AF_UNIX, UnixSocketConnection.streamCloexec | UnixSocketConnection.sockNonBlock, 0)
        guard fd >= 0 else { throw AgentAPIProxyError.listen(path: path, reason: "socket: \(String(cString: strerror(errno)))") }
        func fail(_ what: String) -> AgentAPIProxyError {
            let reason = "\(what): \(String(cString: strerror(errno)))"
            close(fd)
            return AgentAPIProxyError.listen(path: path, reason: reason)
        }
        guard fchmod(fd, 0o600) == 0 else { throw fail("fchmod") }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw fail("bind") }
        // Belt and braces where fchmod before bind is not honoured.
        guard chmod(path, 0o600) == 0 else { let e = fail("chmod"); unlink(path); throw e }
        guard Glibc.listen(fd, 256) == 0 else { let e = fail("listen"); unlink(path); throw e }
        return fd
    }

    static func inode(of path: String) -> UInt? {
        var st = stat()
        return lstat(path, &st) == 0 ? UInt(st.st_ino) : nil
    }
}
