/// The canonical text of a selector, in the format Calico prints (so selector strings, and
/// anything named after them, agree with Calico's): values in double quotes unless they hold
/// a double quote, every `&&`/`||` group in parentheses, `in` sets sorted.
///
/// A value holding both quote characters cannot be written in the language (it has no escapes);
/// the parser can never produce one, and `SelectorExpr(kubernetes:)` rejects one.
extension SelectorExpr: CustomStringConvertible {
    public var description: String {
        var out = ""
        write(to: &out)
        return out
    }

    func write(to out: inout String) {
        switch self {
        case .all: out += "all()"
        case .global: out += "global()"
        case .has(let key): out += "has(" + key + ")"
        case .equals(let key, let value): Self.writeComparison(key, " == ", value, to: &out)
        case .notEquals(let key, let value): Self.writeComparison(key, " != ", value, to: &out)
        case .contains(let key, let value): Self.writeComparison(key, " contains ", value, to: &out)
        case .startsWith(let key, let value): Self.writeComparison(key, " starts with ", value, to: &out)
        case .endsWith(let key, let value): Self.writeComparison(key, " ends with ", value, to: &out)
        case .isIn(let key, let values): Self.writeSet(key, " in {", values, to: &out)
        case .notIn(let key, let values): Self.writeSet(key, " not in {", values, to: &out)
        case .not(let operand):
            out += "!"
            operand.write(to: &out)
        case .and(let operands): Self.writeGroup(operands, " && ", empty: "all()", to: &out)
        case .or(let operands): Self.writeGroup(operands, " || ", empty: "!all()", to: &out)
        }
    }

    private static func writeComparison(_ key: String, _ op: String, _ value: String, to out: inout String) {
        out += key
        out += op
        writeQuoted(value, to: &out)
    }

    private static func writeSet(_ key: String, _ opening: String, _ values: [String], to out: inout String) {
        out += key
        out += opening
        for (index, value) in values.enumerated() {
            if index > 0 { out += ", " }
            writeQuoted(value, to: &out)
        }
        out += "}"
    }

    private static func writeGroup(_ operands: [SelectorExpr], _ op: String, empty: String, to out: inout String) {
        // An empty group never comes from the parser; print its meaning (and of nothing is
        // true, or of nothing is false).
        guard let first = operands.first else { out += empty; return }
        out += "("
        first.write(to: &out)
        for operand in operands.dropFirst() {
            out += op
            operand.write(to: &out)
        }
        out += ")"
    }

    private static func writeQuoted(_ value: String, to out: inout String) {
        let quote = value.utf8.contains(UInt8(ascii: "\"")) ? "'" : "\""
        out += quote
        out += value
        out += quote
    }
}
