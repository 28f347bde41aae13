import Foundation

/// One row of the peer table served at GET /bgp/peers and printed by `calico-node ctl node status`.
public struct BGPPeerTableEntry: Codable, Hashable, Sendable {
    public var peerAddress: String
    /// `node-to-node mesh`, `global` or `node specific`.
    public var peerType: String
    /// BIRD's words, as calicoctl shows them: `up` when Established, `start` while trying, `down` when stopped.
    public var state: String
    /// RFC 4271 state (`Established`, `Active`, ...).
    public var sessionState: String
    /// When the session entered its state (RFC 3339).
    public var since: String
    /// The session state and, when it is not up, the last error.
    public var info: String
    public var asNumber: UInt32
    public var node: String?
    public var prefixesReceived: Int
    public var prefixesAdvertised: Int

    public init(peerAddress: String, peerType: String, state: String, sessionState: String, since: String, info: String,
                asNumber: UInt32, node: String?, prefixesReceived: Int, prefixesAdvertised: Int) {
        self.peerAddress = peerAddress
        self.peerType = peerType
        self.state = state
        self.sessionState = sessionState
        self.since = since
        self.info = info
        self.asNumber = asNumber
        self.node = node
        self.prefixesReceived = prefixesReceived
        self.prefixesAdvertised = prefixesAdvertised
    }

    init(status: BGPPeerStatus, peer: DesiredPeer?) {
        let up = status.state == .established
        self.init(peerAddress: status.address.description, peerType: (peer?.type ?? .global).rawValue,
                  state: up ? "up" : (status.state == .idle && status.lastError != nil ? "down" : "start"),
                  sessionState: status.state.rawValue,
                  since: ISO8601DateFormatter().string(from: status.since),
                  info: up || status.lastError == nil ? status.state.rawValue : "\(status.state.rawValue) \(status.lastError!)",
                  asNumber: status.asn, node: peer?.node,
                  prefixesReceived: status.prefixesReceived, prefixesAdvertised: status.prefixesAdvertised)
    }
}

/// The whole answer of GET /bgp/peers.
public struct BGPPeerTable: Codable, Hashable, Sendable {
    public var running: Bool
    public var nodeName: String
    public var asNumber: UInt32?
    public var routerID: String?
    public var peers: [BGPPeerTableEntry]
    /// Configuration the role skipped, saying what to fix.
    public var problems: [String]

    public init(running: Bool, nodeName: String, asNumber: UInt32?, routerID: String?, peers: [BGPPeerTableEntry], problems: [String]) {
        self.running = running
        self.nodeName = nodeName
        self.asNumber = asNumber
        self.routerID = routerID
        self.peers = peers
        self.problems = problems
    }

    /// calicoctl's `node status` text: one table per family.
    public func render(now: Date = Date(), timeZone: TimeZone = .current) -> String {
        var out = running ? "Calico process is running.\n" : "Calico process is not running.\n"
        for (family, label) in [(false, "IPv4"), (true, "IPv6")] {
            let rows = peers.filter { $0.peerAddress.contains(":") == family }
            out += "\n\(label) BGP status\n"
            guard !rows.isEmpty else {
                out += "No \(label) peers found.\n"
                continue
            }
            let header = ["PEER ADDRESS", "PEER TYPE", "STATE", "SINCE", "INFO"]
            let body = rows.map { [$0.peerAddress, $0.peerType, $0.state, Self.since($0.since, now: now, timeZone: timeZone), $0.info] }
            out += Self.grid([header] + body)
        }
        for p in problems { out += "\nWarning: \(p)\n" }
        return out
    }

    /// BIRD's style: the time of day when today, else the date.
    static func since(_ text: String, now: Date, timeZone: TimeZone) -> String {
        guard let date = ISO8601DateFormatter().date(from: text) else { return text }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let f = DateFormatter()
        f.timeZone = timeZone
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = calendar.isDate(date, inSameDayAs: now) ? "HH:mm:ss" : "yyyy-MM-dd"
        return f.string(from: date)
    }

    /// A `+---+` bordered table with centred headers, as calicoctl prints it.
    static func grid(_ rows: [[String]]) -> String {
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        let rule = "+" + widths.map { String(repeating: "-", count: $0 + 2) + "+" }.joined() + "\n"
        func line(_ row: [String], centre: Bool) -> String {
            "|" + zip(row, widths).map { cell, w in
                let pad = w - cell.count
                let left = centre ? pad / 2 : 0
                return " " + String(repeating: " ", count: left) + cell + String(repeating: " ", count: pad - left) + " |"
            }.joined() + "\n"
        }
        return rule + line(rows[0], centre: true) + rule + rows.dropFirst().map { line($0, centre: false) }.joined() + rule
    }
}
