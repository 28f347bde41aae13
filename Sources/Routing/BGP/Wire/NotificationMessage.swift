/// A NOTIFICATION (RFC 4271 4.5). Also the error every decoder throws: it is exactly what the
/// session must send to the peer before closing.
public struct NotificationMessage: Error, Hashable, Sendable, CustomStringConvertible {
    public var error: BGPErrorCode
    public var data: [UInt8]

    public init(_ error: BGPErrorCode, data: [UInt8] = []) {
        self.error = error
        self.data = data
    }

    public var code: UInt8 { error.code }
    public var subcode: UInt8 { error.subcode }

    /// Longest shutdown communication in octets (RFC 9003 raised RFC 8203's 128 to 255).
    public static let maxShutdownCommunicationLength = 255

    /// A Cease with an RFC 8203 shutdown communication. The text is cut at a character boundary
    /// so that it fits 255 octets of UTF-8.
    public static func cease(_ subcode: CeaseSubcode, communication: String) -> NotificationMessage {
        var utf8: [UInt8] = []
        for scalar in communication.unicodeScalars {
            let encoded = Array(String(scalar).utf8)
            if utf8.count + encoded.count > maxShutdownCommunicationLength { break }
            utf8.append(contentsOf: encoded)
        }
        return NotificationMessage(.cease(subcode), data: [UInt8(utf8.count)] + utf8)
    }

    /// The RFC 8203 communication of an Administrative Shutdown or Reset, when the data holds a
    /// well-formed one (length octet matching, valid UTF-8); nil otherwise.
    public var shutdownCommunication: String? {
        guard error == .cease(.administrativeShutdown) || error == .cease(.administrativeReset),
              let len = data.first, Int(len) <= data.count - 1 else { return nil }
        let text = Array(data[1..<(1 + Int(len))])
        var iterator = text.makeIterator()
        var decoder = UTF8()
        var result = String.UnicodeScalarView()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let s): result.append(s)
            case .emptyInput: return String(result)
            case .error: return nil
            }
        }
    }

    public var description: String {
        var text = "NOTIFICATION \(code)/\(subcode) \(error)"
        if let comm = shutdownCommunication { text += " \"\(comm)\"" }
        else if !data.isEmpty { text += " data \(data.count) octets" }
        return text
    }

    func encodeBody(into w: inout WireWriter) {
        w.u8(code)
        w.u8(subcode)
        w.append(data)
    }

    static func decodeBody(_ r: inout WireReader) -> NotificationMessage? {
        guard let code = r.u8(), let subcode = r.u8() else { return nil }
        return NotificationMessage(BGPErrorCode(code: code, subcode: subcode), data: r.rest())
    }
}
