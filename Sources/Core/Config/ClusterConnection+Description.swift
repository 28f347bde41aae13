/// A description that is safe to log: the token and the client key never appear, only whether
/// they are set.
extension ClusterConnection: CustomStringConvertible {
    public var description: String {
        var parts = ["server=\(server)"]
        if let namespace { parts.append("namespace=\(namespace)") }
        parts.append(caPEM == nil ? "ca=system" : "ca=set")
        if insecureSkipTLSVerify { parts.append("insecure-skip-tls-verify") }
        if clientCertPEM != nil { parts.append("client-cert=set") }
        if clientKeyPEM != nil { parts.append("client-key=<redacted>") }
        if token != nil { parts.append("token=<redacted>") }
        if let tokenFile { parts.append("token-file=\(tokenFile)") }
        return "ClusterConnection(" + parts.joined(separator: ", ") + ")"
    }
}
