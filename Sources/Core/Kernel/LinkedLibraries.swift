import CCalicoSystem
import Foundation

/// Versions of the C libraries this process has loaded, read from the shared objects the dynamic
/// linker mapped (libnftnl and libmnl export no version call; their file names carry it).
public enum LinkedLibraries {
    public struct Library: Sendable, Equatable {
        public var name: String
        public var version: String
    }

    public static func versions() -> [Library] {
        // Touch each library so it is surely mapped before we look.
        _ = nftnl_table_alloc().map { nftnl_table_free($0) }
        _ = mnl_socket_get_portid
        let paths = loadedObjectPaths()
        var out: [Library] = []
        for name in ["libnftnl", "libmnl", "libnl-route-3", "libnl-3", "libcurl"] {
            let file = paths.first { ($0.split(separator: "/").last.map(String.init) ?? "").hasPrefix(name + ".so") }
            out.append(Library(name: name, version: file.map(versionFromSoname) ?? "not loaded"))
        }
        // Libraries that report their own release at run time say so; the others are named by
        // the shared object's version, which identifies the build as well.
        for i in out.indices {
            switch out[i].name {
            case "libcurl":
                // Loaded on first use (dlopen), so this loads it.
                out[i].version = LibCurl.version() ?? "cannot be loaded"
            case "libnl-route-3", "libnl-3":
                out[i].version = "\(nl_ver_maj).\(nl_ver_min).\(nl_ver_mic)"
            default:
                if out[i].version != "not loaded" { out[i].version = "so \(out[i].version)" }
            }
        }
        return out
    }

    /// `…/libnftnl.so.11.6.0` gives `11.6.0`.
    static func versionFromSoname(_ path: String) -> String {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        guard let r = file.range(of: ".so.") else { return "unknown" }
        return String(file[r.upperBound...])
    }

    /// Paths of the shared objects mapped into this process, from /proc/self/maps (already
    /// resolved to the real files, so the version suffix is there).
    private static func loadedObjectPaths() -> [String] {
        // /proc files report size 0, so read to the end rather than by size.
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/maps"),
              let data = try? handle.readToEnd() else { return [] }
        let maps = String(decoding: data, as: UTF8.self)
        var seen = Set<String>()
        for line in maps.split(separator: "\n") {
            guard let slash = line.firstIndex(of: "/") else { continue }
            seen.insert(String(line[slash...]))
        }
        return Array(seen)
    }
}
