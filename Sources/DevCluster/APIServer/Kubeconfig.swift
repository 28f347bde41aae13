import Foundation

/// The kubeconfig files the server writes for its admin: one with the bearer token, one with
/// the client certificate; both embed the CA.
enum Kubeconfig {
    enum Credentials {
        case token(String)
        case clientCertificate(certificatePEM: String, keyPEM: String)
    }

    static func render(server: String, caPEM: String, credentials: Credentials) -> String {
        let user: String
        switch credentials {
        case .token(let t):
            user = "    token: \(t)\n"
        case .clientCertificate(let cert, let key):
            user = "    client-certificate-data: \(base64(cert))\n    client-key-data: \(base64(key))\n"
        }
        return """
        apiVersion: v1
        kind: Config
        clusters:
        - name: devcluster
          cluster:
            server: \(server)
            certificate-authority-data: \(base64(caPEM))
        users:
        - name: admin
          user:
        \(user)contexts:
        - name: devcluster
          context:
            cluster: devcluster
            user: admin
            namespace: default
        current-context: devcluster

        """
    }

    private static func base64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }

    /// `https://HOST:PORT`, using loopback for a wildcard bind and brackets for IPv6.
    static func serverURL(bind: String, port: Int) -> String {
        var host = bind
        if host == "0.0.0.0" || host.isEmpty { host = "127.0.0.1" }
        if host == "::" { host = "::1" }
        if host.contains(":") { host = "[\(host)]" }
        return "https://\(host):\(port)"
    }
}
