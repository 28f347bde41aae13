import Core
import Foundation

/// The kubeconfig the CNI plugin uses (`calico-kubeconfig`), rendered from the datastore
/// connection install-cni itself was given (pure). Credentials are embedded (`-data` fields,
/// a literal token) so the file works wherever the plugin runs; it is written mode 0600.
public enum PluginKubeconfig {
    /// `token` is the bearer token to embed (the connection's literal token, or its token file's
    /// current content, read by the caller); nil when the connection uses a client certificate.
    public static func render(_ c: ClusterConnection, token: String?) -> String {
        var cluster = "    server: \(ConflistRenderer.quoted(c.server))\n"
        if let ca = c.caPEM {
            cluster += "    certificate-authority-data: \(ca.base64EncodedString())\n"
        } else if c.insecureSkipTLSVerify {
            cluster += "    insecure-skip-tls-verify: true\n"
        }
        var user = ""
        if let token { user += "    token: \(ConflistRenderer.quoted(token))\n" }
        if let cert = c.clientCertPEM, let key = c.clientKeyPEM {
            user += "    client-certificate-data: \(cert.base64EncodedString())\n"
            user += "    client-key-data: \(key.base64EncodedString())\n"
        }
        if user.isEmpty { user = "    {}\n" }
        return """
        # Kubeconfig for the Calico CNI plugin, written by calico-node install-cni.
        apiVersion: v1
        kind: Config
        clusters:
        - name: local
          cluster:
        \(cluster)users:
        - name: calico
          user:
        \(user)contexts:
        - name: calico-context
          context:
            cluster: local
            user: calico
        current-context: calico-context

        """
    }

    /// The token to embed: the literal one, else the token file's content (service accounts).
    public static func token(of c: ClusterConnection, readFile: (String) -> String?) throws(InstallError) -> String? {
        if let t = c.token { return t }
        guard let path = c.tokenFile else { return nil }
        guard let t = readFile(path)?.trimmingCharacters(in: .whitespacesAndNewlines), !t.isEmpty else {
            throw .unreadable(path, "the service-account token file is missing or empty")
        }
        return t
    }
}
