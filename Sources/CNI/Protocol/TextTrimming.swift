extension StringProtocol {
    /// The text without leading and trailing whitespace and newlines, in plain Swift:
    /// Foundation's trimmingCharacters(in:) bridges through NSString, which costs a plugin call
    /// (that lasts milliseconds) a measurable share of its time on first use.
    var trimmedWhitespace: String {
        guard let first = firstIndex(where: { !$0.isWhitespace }),
              let last = lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(self[first...last])
    }
}
