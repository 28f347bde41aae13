/// A selector travels as its text (as in every Calico resource): it decodes by parsing, so a
/// malformed selector fails decoding with the parser's position and expectation, and encodes
/// as its canonical form.
extension SelectorExpr: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try SelectorExpr.parse(text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
