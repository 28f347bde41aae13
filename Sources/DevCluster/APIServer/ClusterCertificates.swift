import Crypto
import Foundation
import SwiftASN1
import X509

/// The cluster's PKI, kept in the data directory: a P-256 CA made at first start, a server
/// certificate for 127.0.0.1, ::1, localhost (and the bind address), and an admin client
/// certificate that the server accepts in place of the bearer token.
struct ClusterCertificates {
    struct Pair {
        var certificatePEM: String
        var keyPEM: String
    }

    var ca: Pair
    var server: Pair
    var client: Pair

    enum Failure: Error, CustomStringConvertible {
        case unreadable(String, Error)
        var description: String {
            switch self {
            case .unreadable(let path, let e): return "cannot use \(path): \(e); delete it to have it regenerated"
            }
        }
    }

    /// Loads the CA and client certificate from `dir` (making them if missing) and issues a
    /// fresh server certificate, so a changed bind address is always covered.
    static func prepare(in dir: String, extraHosts: [String]) throws -> ClusterCertificates {
        let caPair: Pair
        let caKey: P256.Signing.PrivateKey
        let caCert: Certificate
        let caCertPath = dir + "/ca.crt", caKeyPath = dir + "/ca.key"
        if let certText = try? String(contentsOfFile: caCertPath, encoding: .utf8),
           let keyText = try? String(contentsOfFile: caKeyPath, encoding: .utf8) {
            do {
                caKey = try P256.Signing.PrivateKey(pemRepresentation: keyText)
                caCert = try Certificate(pemEncoded: certText)
            } catch { throw Failure.unreadable(caKeyPath, error) }
            caPair = Pair(certificatePEM: certText, keyPEM: keyText)
        } else {
            caKey = P256.Signing.PrivateKey()
            let name = try DistinguishedName { CommonName("calico-devcluster-ca") }
            caCert = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: .init(caKey.publicKey),
                notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: Date().addingTimeInterval(10 * 365 * 86400),
                issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                    Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: Certificate.PublicKey(caKey.publicKey))
                },
                issuerPrivateKey: .init(caKey))
            caPair = Pair(certificatePEM: try caCert.serializeAsPEM().pemString, keyPEM: caKey.pemRepresentation)
            try write(caPair.keyPEM, to: caKeyPath, mode: 0o600)
            try write(caPair.certificatePEM, to: caCertPath, mode: 0o644)
        }

        let clientCertPath = dir + "/admin-client.crt", clientKeyPath = dir + "/admin-client.key"
        let client: Pair
        if let c = try? String(contentsOfFile: clientCertPath, encoding: .utf8),
           let k = try? String(contentsOfFile: clientKeyPath, encoding: .utf8) {
            client = Pair(certificatePEM: c, keyPEM: k)
        } else {
            client = try issue(commonName: "admin", organization: "system:masters", sans: [], usage: .clientAuth, caCert: caCert, caKey: caKey)
            try write(client.keyPEM, to: clientKeyPath, mode: 0o600)
            try write(client.certificatePEM, to: clientCertPath, mode: 0o644)
        }

        var hosts = ["127.0.0.1", "::1", "localhost"]
        for h in extraHosts where !hosts.contains(h) && h != "0.0.0.0" && h != "::" { hosts.append(h) }
        let server = try issue(commonName: "calico-devcluster", organization: nil, sans: hosts, usage: .serverAuth, caCert: caCert, caKey: caKey)
        return ClusterCertificates(ca: caPair, server: server, client: client)
    }

    private static func issue(commonName: String, organization: String?, sans: [String], usage: ExtendedKeyUsage.Usage,
                              caCert: Certificate, caKey: P256.Signing.PrivateKey) throws -> Pair {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            if let organization { OrganizationName(organization) }
            CommonName(commonName)
        }
        let names: [GeneralName] = sans.map { host in
            if let bytes = ipBytes(host) { return .ipAddress(ASN1OctetString(contentBytes: bytes[...])) }
            return .dnsName(host)
        }
        let cert = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: Date().addingTimeInterval(5 * 365 * 86400),
            issuer: caCert.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([usage])
                if !names.isEmpty { SubjectAlternativeNames(names) }
            },
            issuerPrivateKey: .init(caKey))
        return Pair(certificatePEM: try cert.serializeAsPEM().pemString, keyPEM: key.pemRepresentation)
    }

    /// The 4 or 16 bytes of an IPv4 or IPv6 literal.
    static func ipBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// Writes atomically with the given permissions.
    static func write(_ text: String, to path: String, mode: Int) throws {
        let tmp = path + ".tmp"
        try Data(text.utf8).write(to: URL(fileURLWithPath: tmp))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: tmp)
        if rename(tmp, path) != 0 { throw CocoaError(.fileWriteUnknown) }
    }
}
