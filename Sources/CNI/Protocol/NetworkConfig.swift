import Core
import Foundation

/// The calico plugin's network configuration (stdin), after Calico's NetConf: the spec's
/// keys, Calico's keys, and `raw` with everything as received so that the IPAM section can be
/// handed to a delegated plugin unchanged and unknown keys are never lost.
public struct NetworkConfig: Sendable, Hashable {
    public static let defaultNodenameFile = "/var/lib/calico/nodename"
    /// Used when `mtu` is absent or 0.
    public static let defaultMTU = 1500

    public var cniVersion: SpecVersion
    public var name: String
    public var type: String

    /// Always "kubernetes" here (the only datastore); an empty value means that too.
    public var datastoreType: String
    public var nodename: String?
    public var nodenameFile: String
    public var nodenameFileOptional: Bool
    /// 0 when absent: use `defaultMTU`.
    public var mtu: Int
    public var numQueues: Int
    public var logLevel: String?
    public var logFilePath: String?
    public var ipam: IPAMSection
    public var policy: PolicySection
    public var kubernetes: KubernetesSection
    public var featureControl: FeatureControl
    public var containerSettings: ContainerSettings
    /// The previous plugin's (or the cached ADD's) result, converted to the version-free form.
    public var prevResult: CNIResult?
    /// The cniVersion the prevResult was written in (its own, else the config's).
    public var prevResultVersion: SpecVersion?
    /// Capability arguments the runtime injected (portMappings, dns, ips, ...).
    public var runtimeConfig: JSONValue?
    /// The whole document as received.
    public var raw: JSONValue

    public var effectiveMTU: Int { mtu > 0 ? mtu : Self.defaultMTU }

    public struct IPAMSection: Sendable, Hashable {
        /// The IPAM plugin to delegate to (`calico-ipam`, `host-local`).
        public var type: String
        /// host-local's subnet; "usePodCidr" is replaced from the Node before delegating.
        public var subnet: String?
        /// The `ipam` object as received.
        public var raw: JSONValue
    }

    public struct PolicySection: Sendable, Hashable, CustomStringConvertible {
        /// "k8s" or empty.
        public var type: String
        public var k8sAPIRoot: String?
        public var k8sAuthToken: String?
        public var k8sClientCertificate: String?
        public var k8sClientKey: String?
        public var k8sCertificateAuthority: String?

        /// Names the fields without their values: the token and key must never reach a log.
        public var description: String {
            "PolicySection(type: \(type), k8sAPIRoot: \(k8sAPIRoot ?? "-"), token set: \(k8sAuthToken != nil))"
        }
    }

    public struct KubernetesSection: Sendable, Hashable {
        public var kubeconfig: String?
        public var k8sAPIRoot: String?
        public var nodeName: String?
    }

    public struct FeatureControl: Sendable, Hashable {
        public var ipAddrsNoIpam: Bool
        public var floatingIPs: Bool
    }

    public struct ContainerSettings: Sendable, Hashable {
        public var allowIPForwarding: Bool
    }
}

extension NetworkConfig {
    /// The node this plugin runs on, Calico's way: `nodename`, then the file calico-node
    /// writes at startup, then (only if the file is optional) the lowercased host name.
    /// `readFile` is the injected edge; it returns nil when the file is absent.
    public func resolveNodename(readFile: (String) -> String?, hostname: () -> String) throws(CNIError) -> String {
        if let nodename, !nodename.isEmpty { return nodename }
        if let text = readFile(nodenameFile) {
            let name = text.trimmedWhitespace
            if !name.isEmpty { return name }
        }
        guard nodenameFileOptional else {
            throw CNIError(.tryAgainLater,
                           "\(nodenameFile) is missing or empty: check that calico-node is running and has mounted /var/lib/calico/ (or set nodename in the network config)")
        }
        return hostname().lowercased()
    }
}
