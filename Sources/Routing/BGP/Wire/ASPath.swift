/// AS_PATH / AS4_PATH (RFC 4271 4.3, RFC 6793, RFC 5065 segment types), always held with
/// 4-octet AS numbers; the width on the wire is chosen when encoding.
public struct ASPath: Hashable, Sendable, CustomStringConvertible {
    public enum SegmentType: UInt8, Sendable {
        case set = 1
        case sequence = 2
        case confedSequence = 3
        case confedSet = 4
    }

    public struct Segment: Hashable, Sendable {
        public var type: SegmentType
        public var asns: [UInt32]
        public init(_ type: SegmentType, _ asns: [UInt32]) {
            self.type = type
            self.asns = asns
        }
    }

    public var segments: [Segment]

    public init(_ segments: [Segment] = []) { self.segments = segments }
    public static func sequence(_ asns: [UInt32]) -> ASPath { ASPath(asns.isEmpty ? [] : [Segment(.sequence, asns)]) }

    /// Path length for best-path selection: an AS_SET counts 1, confederation segments 0 (RFC 5065).
    public var length: Int {
        segments.reduce(0) { total, s in
            switch s.type {
            case .sequence: return total + s.asns.count
            case .set: return total + 1
            case .confedSequence, .confedSet: return total
            }
        }
    }

    /// The neighbouring AS: first AS of a leading AS_SEQUENCE.
    public var firstAS: UInt32? {
        guard let s = segments.first, s.type == .sequence else { return nil }
        return s.asns.first
    }

    public func contains(_ asn: UInt32) -> Bool { segments.contains { $0.asns.contains(asn) } }

    /// Prepends `asn` as RFC 4271 5.1.2 says (new AS_SEQUENCE when the first is a set or full).
    public func prepending(_ asn: UInt32) -> ASPath {
        var copy = self
        if var first = copy.segments.first, first.type == .sequence, first.asns.count < 255 {
            first.asns.insert(asn, at: 0)
            copy.segments[0] = first
        } else {
            copy.segments.insert(Segment(.sequence, [asn]), at: 0)
        }
        return copy
    }

    /// True when some AS needs 4 octets (then a 2-octet peer also gets AS4_PATH).
    public var needsFourOctets: Bool { segments.contains { $0.asns.contains { $0 > 0xFFFF } } }

    public var description: String {
        segments.map { s in
            let list = s.asns.map(String.init).joined(separator: " ")
            switch s.type {
            case .sequence: return list
            case .set: return "{\(list)}"
            case .confedSequence: return "(\(list))"
            case .confedSet: return "[\(list)]"
            }
        }.joined(separator: " ")
    }

    /// Segments of more than 255 ASes are split, since the count is one octet.
    public func encode(into w: inout WireWriter, fourOctet: Bool) {
        for s in segments {
            var rest = s.asns[...]
            repeat {
                let chunk = rest.prefix(255)
                rest = rest.dropFirst(chunk.count)
                w.u8(s.type.rawValue); w.u8(UInt8(chunk.count))
                for asn in chunk {
                    if fourOctet { w.u32(asn) } else { w.u16(asn > 0xFFFF ? OpenMessage.asTrans : UInt16(asn)) }
                }
            } while !rest.isEmpty
        }
    }

    /// Nil when malformed in RFC 7606 7.2's sense: unknown segment type, zero-length segment,
    /// overrun, or a trailing single octet.
    public static func decode(_ bytes: [UInt8], fourOctet: Bool) -> ASPath? {
        var r = WireReader(bytes)
        var segments: [Segment] = []
        let width = fourOctet ? 4 : 2
        while !r.isAtEnd {
            guard let rawType = r.u8(), let type = SegmentType(rawValue: rawType),
                  let count = r.u8(), count > 0, r.remaining >= Int(count) * width else { return nil }
            var asns: [UInt32] = []
            asns.reserveCapacity(Int(count))
            for _ in 0..<count { asns.append(fourOctet ? r.u32()! : UInt32(r.u16()!)) }
            segments.append(Segment(type, asns))
        }
        return ASPath(segments)
    }

    /// RFC 6793 4.2.3: rebuilds the true path of a route from a 2-octet speaker out of AS_PATH
    /// and AS4_PATH. AS4_PATH is ignored when it is longer than AS_PATH.
    public static func merge(asPath: ASPath, as4Path: ASPath) -> ASPath {
        let extra = asPath.length - as4Path.length
        guard extra >= 0 else { return asPath }
        // Keep the leading `extra` path-length units of AS_PATH, then all of AS4_PATH.
        var kept: [Segment] = []
        var budget = extra
        for s in asPath.segments where budget > 0 {
            switch s.type {
            case .sequence:
                let take = min(budget, s.asns.count)
                kept.append(Segment(.sequence, Array(s.asns.prefix(take))))
                budget -= take
            case .set:
                kept.append(s)
                budget -= 1
            case .confedSequence, .confedSet:
                kept.append(s)
            }
        }
        return ASPath(kept + as4Path.segments)
    }
}
