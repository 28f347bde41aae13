#if canImport(Glibc)
import Glibc
#endif

/// How a plugin invocation ends once its answer is written (unbuffered, to fd 1): _exit, not
/// exit. exit() runs the library destructors (OpenSSL's among libcurl's dependencies) while the
/// API client's libcurl thread may still be finishing a request (a Node read confirming the
/// podCIDR cache, a keep-alive connection), which aborted one ADD in ~1,000 with a double free.
/// Nothing is left to clean up for a process about to end; stdio is flushed first.
enum PluginExit {
    static func now(_ status: Int32) -> Never {
        fflush(nil)
        _exit(status)
    }
}
