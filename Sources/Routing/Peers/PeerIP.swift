/// A BGPPeer `peerIP`: `10.0.0.1`, `10.0.0.1:1790`, `fd00::1` or `[fd00::1]:1790`.
public struct PeerIP: Hashable, Sendable {
    public var address: IPAddress
    public var port: Int?

    public init(address: IPAddress, port: Int? = nil) {
        self.address = address
        self.port = port
    }

    public init?(_ text: String) {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), let a = IPAddress(String(text[text.index(after: text.startIndex)..<close])) else { return nil }
            let rest = text[text.index(after: close)...]
            if rest.isEmpty { self.init(address: a); return }
            guard rest.hasPrefix(":"), let p = Int(rest.dropFirst()), (1...65535).contains(p) else { return nil }
            self.init(address: a, port: p)
            return
        }
        if let a = IPAddress(text) { self.init(address: a); return }
        // IPv4 with a port (an IPv6 address with a port must use brackets).
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let a = IPAddress(String(parts[0])), a.family == .ipv4,
              let p = Int(parts[1]), (1...65535).contains(p) else { return nil }
        self.init(address: a, port: p)
    }
}
