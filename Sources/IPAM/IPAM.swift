// The IPAM module; filled in by its issue.
public enum IPAMModule { public static let name = "IPAM" }
