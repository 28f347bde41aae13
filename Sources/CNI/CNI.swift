// The CNI module; filled in by its issue.
public enum CNIModule { public static let name = "CNI" }
