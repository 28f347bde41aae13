/// The lexical layer of the selector parser: a cursor over the UTF-8 bytes of the text.
///
/// The language is context sensitive (after a label, `in` is an operator; elsewhere it is a
/// label), so the parser asks for what it expects next instead of tokenizing up front. Every
/// syntax element is ASCII; only quoted values may hold other characters.
struct SelectorScanner {
    let source: String
    let bytes: [UInt8]
    private(set) var offset = 0

    init(_ source: String) {
        self.source = source
        self.bytes = Array(source.utf8)
    }

    var atEnd: Bool { offset >= bytes.count }

    /// The next byte, or nil at the end.
    var peek: UInt8? { atEnd ? nil : bytes[offset] }

    mutating func skipWhitespace() {
        while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
            offset += 1
        }
    }

    /// Consumes `literal` (after whitespace) if it comes next.
    mutating func consume(_ literal: StaticString) -> Bool {
        skipWhitespace()
        let count = literal.utf8CodeUnitCount
        guard offset + count <= bytes.count else { return false }
        let matches = literal.withUTF8Buffer { lit in
            (0..<count).allSatisfy { bytes[offset + $0] == lit[$0] }
        }
        if matches { offset += count }
        return matches
    }

    /// Consumes the keyword `word` (after whitespace) if it comes next as a whole word.
    mutating func consumeKeyword(_ word: StaticString) -> Bool {
        let start = offset
        guard consume(word) else { return false }
        if let next = peek, Self.isLabelByte(next) {
            offset = start
            return false
        }
        return true
    }

    /// Consumes `literal` or fails with "expected <literal>".
    mutating func expect(_ literal: StaticString) throws(SelectorSyntaxError) {
        guard consume(literal) else {
            throw error(expected: "'\(literal)'")
        }
    }

    /// Reads a label key (`[A-Za-z0-9_./-]+`, as Calico accepts), or nil if none comes next.
    mutating func label() -> String? {
        skipWhitespace()
        let start = offset
        while let byte = peek, Self.isLabelByte(byte) { offset += 1 }
        guard offset > start else { return nil }
        return String(decoding: bytes[start..<offset], as: UTF8.self)
    }

    /// Reads a string in single or double quotes; there are no escapes, a value simply cannot
    /// hold its own quote character.
    mutating func quotedString() throws(SelectorSyntaxError) -> String {
        skipWhitespace()
        guard let quote = peek, quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"") else {
            throw error(expected: "a quoted string")
        }
        let start = offset + 1
        var end = start
        while end < bytes.count, bytes[end] != quote { end += 1 }
        guard end < bytes.count else {
            offset = bytes.count
            throw error(expected: quote == UInt8(ascii: "'") ? "closing \"'\"" : "closing '\"'")
        }
        offset = end + 1
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// A syntax error at the current offset (after whitespace).
    mutating func error(expected: String) -> SelectorSyntaxError {
        skipWhitespace()
        return error(expected: expected, atByte: offset)
    }

    func error(expected: String, atByte byteOffset: Int) -> SelectorSyntaxError {
        let position = String(decoding: bytes[..<byteOffset], as: UTF8.self).count
        var found = "end of selector"
        if byteOffset < bytes.count {
            let excerpt = String(String(decoding: bytes[byteOffset...], as: UTF8.self).prefix(12))
            found = "\"\(excerpt)\""
        }
        return SelectorSyntaxError(selector: source, position: position, expected: expected, found: found)
    }

    static func isLabelByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}
