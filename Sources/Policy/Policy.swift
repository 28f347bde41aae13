// The Policy module; filled in by its issue.
public enum PolicyModule { public static let name = "Policy" }
