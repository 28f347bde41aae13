/// Decodes rtnetlink RTM_NEWLINK / RTM_DELLINK messages (a pure function of bytes, so the
/// link monitor's parsing is unit-tested without a kernel).
public enum LinkMessageParser {
    static let rtmNewLink: UInt16 = 16
    static let rtmDelLink: UInt16 = 17
    static let iflaAddress: UInt16 = 1
    static let iflaIfname: UInt16 = 3
    static let iflaMTU: UInt16 = 4
    static let iflaLinkinfo: UInt16 = 18
    static let iflaInfoKind: UInt16 = 1
    static let iffUp: UInt32 = 1

    public enum Change: Sendable, Hashable { case newOrChanged, removed }

    /// Every link message in one datagram (several netlink messages may share it); anything
    /// truncated or of another type is skipped.
    public static func parse(_ bytes: [UInt8]) -> [(Change, Link)] {
        var out: [(Change, Link)] = []
        var offset = 0
        while offset + 16 <= bytes.count {
            let length = Int(u32(bytes, offset))
            let type = u16(bytes, offset + 4)
            guard length >= 16, offset + length <= bytes.count else { break }
            if type == rtmNewLink || type == rtmDelLink,
               let link = parseLink(Array(bytes[(offset + 16)..<(offset + length)])) {
                out.append((type == rtmNewLink ? .newOrChanged : .removed, link))
            }
            offset += align(length)
        }
        return out
    }

    /// ifinfomsg (16 bytes) followed by attributes.
    static func parseLink(_ body: [UInt8]) -> Link? {
        guard body.count >= 16 else { return nil }
        let index = Int32(bitPattern: u32(body, 4))
        let flags = u32(body, 8)
        var link = Link(index: index, name: "", mac: nil, mtu: 0, isUp: flags & iffUp != 0, kind: nil)
        for (type, value) in attributes(body, from: 16) {
            switch type {
            case iflaIfname: link.name = cString(value)
            case iflaAddress: link.mac = MACAddress(bytes: value)
            case iflaMTU where value.count >= 4: link.mtu = Int(u32(value, 0))
            case iflaLinkinfo:
                if let kind = attributes(value, from: 0).first(where: { $0.0 == iflaInfoKind }) { link.kind = cString(kind.1) }
            default: break
            }
        }
        return link.name.isEmpty ? nil : link
    }

    /// rtattr list: length u16 (including the 4-byte header), type u16 (low 14 bits), value, padding to 4.
    static func attributes(_ bytes: [UInt8], from start: Int) -> [(UInt16, [UInt8])] {
        var out: [(UInt16, [UInt8])] = []
        var offset = start
        while offset + 4 <= bytes.count {
            let length = Int(u16(bytes, offset))
            guard length >= 4, offset + length <= bytes.count else { break }
            out.append((u16(bytes, offset + 2) & 0x3FFF, Array(bytes[(offset + 4)..<(offset + length)])))
            offset += align(length)
        }
        return out
    }

    static func align(_ n: Int) -> Int { (n + 3) & ~3 }

    // Netlink is host byte order; every Linux target we build for is little-endian.
    static func u16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }
    static func u32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }

    static func cString(_ b: [UInt8]) -> String { String(decoding: b.prefix { $0 != 0 }, as: UTF8.self) }
}
