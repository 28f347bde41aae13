import CCalicoSystem
#if canImport(Glibc)
import Glibc
#endif

/// libcurl, loaded with dlopen the first time the process talks to an API server. Linked at
/// build time, libcurl and its ~30 dependencies (TLS, HTTP/2, LDAP, Kerberos, ...) were mapped
/// and relocated at every start, which dominated the start of the CNI plugin: a VERSION or a
/// host-local ADD never talks to the API and now never loads them. Only curl.h's types are
/// used at build time; every call goes through the function pointers resolved here.
struct LibCurl: @unchecked Sendable {
    /// Tried in order: the runtime library's soname, then the development symlink.
    static let candidates = ["libcurl.so.4", "libcurl.so"]

    let globalInit: @convention(c) (Int) -> CURLcode
    let versionInfo: @convention(c) (CURLversion) -> UnsafeMutablePointer<curl_version_info_data>?
    let easyInit: @convention(c) () -> UnsafeMutableRawPointer?
    let easyCleanup: @convention(c) (UnsafeMutableRawPointer?) -> Void
    let easyStrerror: @convention(c) (CURLcode) -> UnsafePointer<CChar>?
    let slistAppend: @convention(c) (UnsafeMutablePointer<curl_slist>?, UnsafePointer<CChar>?) -> UnsafeMutablePointer<curl_slist>?
    let slistFreeAll: @convention(c) (UnsafeMutablePointer<curl_slist>?) -> Void
    let multiInit: @convention(c) () -> UnsafeMutableRawPointer?
    let multiCleanup: @convention(c) (UnsafeMutableRawPointer?) -> CURLMcode
    let multiAddHandle: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> CURLMcode
    let multiRemoveHandle: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> CURLMcode
    let multiPerform: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<Int32>?) -> CURLMcode
    let multiPoll: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<curl_waitfd>?, UInt32, Int32, UnsafeMutablePointer<Int32>?) -> CURLMcode
    let multiWakeup: @convention(c) (UnsafeMutableRawPointer?) -> CURLMcode
    let multiInfoRead: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<Int32>?) -> UnsafeMutablePointer<CURLMsg>?
    let multiStrerror: @convention(c) (CURLMcode) -> UnsafePointer<CChar>?
    /// Variadic in C, so called through the shim's typed trampolines (cs_curl_setopt_*).
    let easySetopt: UnsafeMutableRawPointer
    let easyGetinfo: UnsafeMutableRawPointer
    let multiSetopt: UnsafeMutableRawPointer

    /// Loaded and globally initialised once per process; the failure, if any, is kept too.
    static let shared: Result<LibCurl, HTTPTransportError> = load()

    static func get() throws(HTTPTransportError) -> LibCurl {
        try shared.get()
    }

    /// The loaded library's version, loading it if need be; nil when it cannot be loaded.
    static func version() -> String? {
        guard let curl = try? get(), let info = curl.versionInfo(CURLVERSION_ELEVENTH),
              let v = info.pointee.version else { return nil }
        return String(cString: v)
    }

    private static func load() -> Result<LibCurl, HTTPTransportError> {
        var handle: UnsafeMutableRawPointer?
        var reasons: [String] = []
        for name in candidates {
            // RTLD_LOCAL: its symbols must not satisfy anyone else's lookups. RTLD_LAZY: the
            // functions of its 30 libraries that are never called are never bound (~1 ms).
            handle = dlopen(name, RTLD_LAZY | RTLD_LOCAL)
            if handle != nil { break }
            reasons.append(dlerror().map { String(cString: $0) } ?? name)
        }
        guard let handle else {
            return .failure(HTTPTransportError(message: "cannot load libcurl (\(reasons.joined(separator: "; "))); "
                + "install it (Debian: apt-get install libcurl4)"))
        }
        do {
            let curl = try LibCurl(handle)
            guard curl.globalInit(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK else {
                return .failure(HTTPTransportError(message: "cannot initialise libcurl (curl_global_init failed)"))
            }
            return .success(curl)
        } catch {
            return .failure(error)
        }
    }

    private init(_ h: UnsafeMutableRawPointer) throws(HTTPTransportError) {
        globalInit = try Self.symbol(h, "curl_global_init")
        versionInfo = try Self.symbol(h, "curl_version_info")
        easyInit = try Self.symbol(h, "curl_easy_init")
        easyCleanup = try Self.symbol(h, "curl_easy_cleanup")
        easyStrerror = try Self.symbol(h, "curl_easy_strerror")
        slistAppend = try Self.symbol(h, "curl_slist_append")
        slistFreeAll = try Self.symbol(h, "curl_slist_free_all")
        multiInit = try Self.symbol(h, "curl_multi_init")
        multiCleanup = try Self.symbol(h, "curl_multi_cleanup")
        multiAddHandle = try Self.symbol(h, "curl_multi_add_handle")
        multiRemoveHandle = try Self.symbol(h, "curl_multi_remove_handle")
        multiPerform = try Self.symbol(h, "curl_multi_perform")
        multiPoll = try Self.symbol(h, "curl_multi_poll")
        multiWakeup = try Self.symbol(h, "curl_multi_wakeup")
        multiInfoRead = try Self.symbol(h, "curl_multi_info_read")
        multiStrerror = try Self.symbol(h, "curl_multi_strerror")
        easySetopt = try Self.address(h, "curl_easy_setopt")
        easyGetinfo = try Self.address(h, "curl_easy_getinfo")
        multiSetopt = try Self.address(h, "curl_multi_setopt")
    }

    private static func address(_ h: UnsafeMutableRawPointer, _ name: String) throws(HTTPTransportError) -> UnsafeMutableRawPointer {
        guard let p = dlsym(h, name) else {
            // curl_multi_poll and curl_multi_wakeup arrived in 7.66 and 7.68.
            throw HTTPTransportError(message: "the loaded libcurl lacks \(name); calico-node needs libcurl 7.68 or newer")
        }
        return p
    }

    private static func symbol<F>(_ h: UnsafeMutableRawPointer, _ name: String) throws(HTTPTransportError) -> F {
        unsafeBitCast(try address(h, name), to: F.self)
    }

    // Conveniences for the call sites.

    func easyError(_ code: CURLcode) -> String {
        easyStrerror(code).map { String(cString: $0) } ?? "libcurl error \(code.rawValue)"
    }

    func multiError(_ code: CURLMcode) -> String {
        multiStrerror(code).map { String(cString: $0) } ?? "libcurl multi error \(code.rawValue)"
    }
}
