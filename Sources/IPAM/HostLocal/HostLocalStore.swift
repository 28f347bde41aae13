import Foundation

/// host-local's on-disk reservations: one file per address under `<dataDir>/<network name>/`,
/// named by the address and holding `<containerID>\r\n<ifname>` (older releases: the ID alone).
/// Read for GC when host-local itself is too old to do GC, and by tests to see what is held.
public enum HostLocalStore {
    /// host-local's default `dataDir`.
    public static let defaultDataDir = "/var/lib/cni/networks"

    public struct Reservation: Sendable, Hashable {
        public var address: String
        public var containerID: String
        public var ifName: String?

        public init(address: String, containerID: String, ifName: String?) {
            self.address = address
            self.containerID = containerID
            self.ifName = ifName
        }
    }

    /// The ipam section's `dataDir`, or the default.
    public static func dataDir(ipamDataDir: String?) -> String {
        guard let d = ipamDataDir, !d.isEmpty else { return defaultDataDir }
        return d
    }

    /// Every reservation of network `network`; an absent directory holds none.
    public static func reservations(dataDir: String, network: String) -> [Reservation] {
        let dir = (dataDir as NSString).appendingPathComponent(network)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        var out: [Reservation] = []
        for name in names.sorted() where isAddressFile(name) {
            guard let text = try? String(contentsOfFile: (dir as NSString).appendingPathComponent(name), encoding: .utf8)
            else { continue }
            if let r = parse(address: name, contents: text) { out.append(r) }
        }
        return out
    }

    /// One file's contents; nil when it holds no container ID.
    public static func parse(address: String, contents: String) -> Reservation? {
        let lines = contents.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard let id = lines.first, !id.isEmpty else { return nil }
        let ifName = lines.count > 1 && !lines[1].isEmpty ? lines[1] : nil
        return Reservation(address: address, containerID: id, ifName: ifName)
    }

    /// Address files, not `lock` or `last_reserved_ip.N`.
    static func isAddressFile(_ name: String) -> Bool {
        name != "lock" && !name.hasPrefix("last_reserved_ip") && (name.contains(".") || name.contains(":") || name.contains("_"))
    }
}
