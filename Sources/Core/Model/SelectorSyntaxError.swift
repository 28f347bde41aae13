/// A selector that does not parse: where (0-based character offset into the selector text) and
/// what the parser expected there. Its description reads like `expected ')' at 17, found end of
/// selector, in selector "a == 'b' && (has(c)"`.
public struct SelectorSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The selector text as given.
    public var selector: String
    /// 0-based offset, in characters, of the point where parsing failed.
    public var position: Int
    /// What would have been valid at `position`, e.g. `')'` or `a quoted string`.
    public var expected: String
    /// What was there instead: a short excerpt, or `end of selector`.
    public var found: String

    public init(selector: String, position: Int, expected: String, found: String) {
        self.selector = selector
        self.position = position
        self.expected = expected
        self.found = found
    }

    /// `expected <what> at <position>`.
    public var message: String { "expected \(expected) at \(position)" }

    public var description: String {
        "\(message), found \(found), in selector \"\(selector)\"; fix the selector syntax"
    }
}
