#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Atomic file operations for install-cni: each writes a temporary name in the target's own
/// directory and renames it over the target, so a kubelet reading the directory never sees a
/// half-written conflist and a running plugin binary is replaced, not truncated.
enum InstallFiles {
    static func makeDirectory(_ path: String) throws(InstallError) {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw .io(path, "cannot create the directory: \(error.localizedDescription)")
        }
    }

    static func write(_ text: String, to path: String, mode: mode_t) throws(InstallError) {
        let tmp = temporaryName(for: path)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .io(path, String(cString: strerror(errno))) }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let why = String(cString: strerror(errno))
                close(fd); unlink(tmp)
                throw .io(path, why)
            }
            written += n
        }
        // The umask may have narrowed the mode given to open.
        fchmod(fd, mode)
        fsync(fd)
        close(fd)
        try commit(tmp, path)
    }

    /// `path` becomes a symlink to `target`.
    static func symlink(_ target: String, at path: String) throws(InstallError) {
        let tmp = temporaryName(for: path)
        guard Glibc.symlink(target, tmp) == 0 else { throw .io(path, String(cString: strerror(errno))) }
        try commit(tmp, path)
    }

    /// `path` becomes a copy of `source`, mode 0755.
    static func copyExecutable(_ source: String, to path: String) throws(InstallError) {
        let tmp = temporaryName(for: path)
        do {
            try FileManager.default.copyItem(atPath: source, toPath: tmp)
        } catch {
            unlink(tmp)
            throw .io(path, "cannot copy \(source): \(error.localizedDescription)")
        }
        chmod(tmp, 0o755)
        try commit(tmp, path)
    }

    private static func commit(_ tmp: String, _ path: String) throws(InstallError) {
        guard rename(tmp, path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(tmp)
            throw .io(path, why)
        }
    }

    private static func temporaryName(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
    }
}
