/// Recursive-descent parser for Calico selectors.
///
///     selector   := ws | or
///     or         := and ( "||" and )*
///     and        := unary ( "&&" unary )*
///     unary      := "!"* primary                      (the "!"s apply to the primary only)
///     primary    := "(" or ")" | "all(" ")" | "global(" ")" | "has(" label ")"
///                 | label ( "==" | "!=" | "contains" | "starts" "with" | "ends" "with" ) string
///                 | label ( "in" | "not" "in" ) "{" [ string ( "," string )* [","] ] "}"
///     string     := '...' | "..."                     (no escapes)
///     label      := [A-Za-z0-9_./-]+
///
/// Whitespace (space, tab, newline) may stand between any two elements.
extension SelectorExpr {
    /// Parses selector text; the empty (or all-whitespace) selector is `all()`.
    public static func parse(_ text: String) throws(SelectorSyntaxError) -> SelectorExpr {
        var parser = SelectorParser(text)
        return try parser.parseSelector()
    }

    /// Parses selector text; see `parse(_:)`.
    public init(parsing text: String) throws(SelectorSyntaxError) {
        self = try Self.parse(text)
    }
}

struct SelectorParser {
    /// Deeper nesting than this is refused rather than risking the stack on hostile input.
    static let maxDepth = 200

    private var scanner: SelectorScanner
    private var depth = 0

    init(_ text: String) {
        scanner = SelectorScanner(text)
    }

    mutating func parseSelector() throws(SelectorSyntaxError) -> SelectorExpr {
        scanner.skipWhitespace()
        if scanner.atEnd { return .all }
        let expr = try parseOr()
        scanner.skipWhitespace()
        guard scanner.atEnd else {
            throw scanner.error(expected: "'&&', '||' or end of selector")
        }
        return expr
    }

    private mutating func parseOr() throws(SelectorSyntaxError) -> SelectorExpr {
        var operands = [try parseAnd()]
        while scanner.consume("||") {
            operands.append(try parseAnd())
        }
        return operands.count == 1 ? operands[0] : .or(operands)
    }

    private mutating func parseAnd() throws(SelectorSyntaxError) -> SelectorExpr {
        var operands = [try parseUnary()]
        while scanner.consume("&&") {
            operands.append(try parseUnary())
        }
        return operands.count == 1 ? operands[0] : .and(operands)
    }

    private mutating func parseUnary() throws(SelectorSyntaxError) -> SelectorExpr {
        var negate = false
        while true {
            scanner.skipWhitespace()
            let start = scanner.offset
            guard scanner.consume("!") else { break }
            if scanner.peek == UInt8(ascii: "=") {
                throw scanner.error(expected: Self.operandDescription, atByte: start)
            }
            negate.toggle()
        }
        let primary = try parsePrimary()
        return negate ? primary.negated : primary
    }

    private static let operandDescription = "a label, has(), all(), global(), '!' or '('"

    private mutating func parsePrimary() throws(SelectorSyntaxError) -> SelectorExpr {
        scanner.skipWhitespace()
        let start = scanner.offset
        if scanner.consume("(") {
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maxDepth else {
                throw scanner.error(expected: "at most \(Self.maxDepth) nested parentheses", atByte: start)
            }
            let inner = try parseOr()
            try scanner.expect(")")
            return inner
        }
        guard let word = scanner.label() else {
            throw scanner.error(expected: Self.operandDescription)
        }
        if scanner.consume("(") {
            switch word {
            case "all":
                try scanner.expect(")")
                return .all
            case "global":
                try scanner.expect(")")
                return .global
            case "has":
                guard let key = scanner.label() else { throw scanner.error(expected: "a label key") }
                try scanner.expect(")")
                return .has(key)
            default:
                throw scanner.error(expected: "has(), all() or global()", atByte: start)
            }
        }
        return try parseComparison(key: word)
    }

    private mutating func parseComparison(key: String) throws(SelectorSyntaxError) -> SelectorExpr {
        if scanner.consume("==") { return .equals(key, try scanner.quotedString()) }
        if scanner.consume("!=") { return .notEquals(key, try scanner.quotedString()) }
        if scanner.consumeKeyword("contains") { return .contains(key, try scanner.quotedString()) }
        if scanner.consumeKeyword("starts") {
            guard scanner.consumeKeyword("with") else { throw scanner.error(expected: "'with'") }
            return .startsWith(key, try scanner.quotedString())
        }
        if scanner.consumeKeyword("ends") {
            guard scanner.consumeKeyword("with") else { throw scanner.error(expected: "'with'") }
            return .endsWith(key, try scanner.quotedString())
        }
        if scanner.consumeKeyword("in") { return .isIn(key, try parseSet()) }
        if scanner.consumeKeyword("not") {
            guard scanner.consumeKeyword("in") else { throw scanner.error(expected: "'in'") }
            return .notIn(key, try parseSet())
        }
        throw scanner.error(expected: "'==', '!=', 'in', 'not in', 'contains', 'starts with' or 'ends with'")
    }

    /// `{ 'a', "b" }`; like Calico, a trailing comma and the empty set are accepted.
    private mutating func parseSet() throws(SelectorSyntaxError) -> [String] {
        try scanner.expect("{")
        var values: [String] = []
        while !scanner.consume("}") {
            values.append(try scanner.quotedString())
            if scanner.consume("}") { break }
            guard scanner.consume(",") else { throw scanner.error(expected: "',' or '}'") }
        }
        return SelectorExpr.canonicalSet(values)
    }
}
