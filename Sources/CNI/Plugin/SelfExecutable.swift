#if canImport(Glibc)
import Glibc
#endif

/// Whether a plugin found on CNI_PATH is this very executable (install-cni links `calico` and
/// `calico-ipam` to one calico-node binary): then the calico plugin runs calico-ipam in its
/// own process instead of exec'ing itself, which saves a whole process start and a second
/// connection to the API server on every ADD and DEL.
enum SelfExecutable {
    /// Same file (device and inode, symlinks followed) as /proc/self/exe.
    static func isSelf(_ path: String) -> Bool {
        var candidate = stat(), me = stat()
        guard stat(path, &candidate) == 0, stat("/proc/self/exe", &me) == 0 else { return false }
        return candidate.st_dev == me.st_dev && candidate.st_ino == me.st_ino
    }
}
