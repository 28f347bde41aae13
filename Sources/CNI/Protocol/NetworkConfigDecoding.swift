import Core
import Foundation

extension NetworkConfig {
    /// Log levels Calico's plugin accepts (logrus names, any case).
    public static let logLevels: Set<String> = ["trace", "debug", "info", "warn", "warning", "error", "fatal", "panic"]

    /// Decodes and validates stdin. Order and codes: not JSON or a wrong JSON type -> 6;
    /// missing or unsupported cniVersion -> 1; a field this plugin does not support -> 2;
    /// anything else semantically wrong -> 7. Every message names the field.
    public static func decode(_ data: Data) throws(CNIError) -> NetworkConfig {
        let value: JSONValue
        do { value = try JSONValue(data: data) } catch {
            throw CNIError.decode("network config: stdin is not valid JSON (\(data.count) bytes)")
        }
        return try decode(value)
    }

    public static func decode(_ value: JSONValue) throws(CNIError) -> NetworkConfig {
        let f = try JSONFields(value, path: "")
        let versionText = try f.string("cniVersion") ?? ""
        guard let version = SpecVersion(rawValue: versionText) else { throw CNIError.incompatible(configVersion: versionText) }
        if f.raw("plugins") != nil {
            throw CNIError.invalidConfig("plugins", "is present: this is a configuration list; the runtime must pass one plugin's configuration with name and cniVersion injected")
        }
        let type = try f.string("type") ?? ""
        guard !type.isEmpty else { throw CNIError.invalidConfig("type", "is required") }
        let name = try f.string("name") ?? ""
        try validateNetworkName(name)

        let datastore = try f.string("datastore_type") ?? ""
        guard datastore.isEmpty || datastore == "kubernetes" else {
            throw CNIError.unsupported("datastore_type", datastore, "only \"kubernetes\" is supported")
        }
        if let etcd = try f.string("etcd_endpoints"), !etcd.isEmpty {
            throw CNIError.unsupported("etcd_endpoints", etcd, "the Kubernetes API is the only datastore")
        }
        let mtu = try f.int("mtu") ?? 0
        guard mtu == 0 || (68...65535).contains(mtu) else {
            throw CNIError.invalidConfig("mtu", "\(mtu) is out of range: use 68-65535, or 0 for \(defaultMTU)")
        }
        let numQueues = try f.int("num_queues") ?? 0
        guard numQueues >= 0 else { throw CNIError.invalidConfig("num_queues", "must not be negative") }
        let logLevel = try f.string("log_level")
        if let logLevel, !logLevel.isEmpty, !logLevels.contains(logLevel.lowercased()) {
            throw CNIError.invalidConfig("log_level", "\"\(logLevel)\" is not one of \(logLevels.sorted().joined(separator: ", "))")
        }

        var prevResult: CNIResult?
        var prevVersion: SpecVersion?
        if let prev = f.raw("prevResult") {
            (prevResult, prevVersion) = try CNIResult.decode(prev, defaultVersion: version, path: "prevResult")
        }
        let runtimeConfig = f.raw("runtimeConfig")
        if let runtimeConfig, runtimeConfig.objectValue == nil {
            throw CNIError.decode("runtimeConfig: must be a JSON object")
        }

        return NetworkConfig(
            cniVersion: version, name: name, type: type,
            datastoreType: "kubernetes",
            nodename: try f.string("nodename"),
            nodenameFile: try f.string("nodename_file").flatMap { $0.isEmpty ? nil : $0 } ?? defaultNodenameFile,
            nodenameFileOptional: try f.bool("nodename_file_optional") ?? false,
            mtu: mtu, numQueues: numQueues, logLevel: logLevel,
            logFilePath: try f.string("log_file_path"),
            ipam: try IPAMSection(f),
            policy: try PolicySection(f.object("policy")),
            kubernetes: try KubernetesSection(f.object("kubernetes")),
            featureControl: try FeatureControl(f.object("feature_control")),
            containerSettings: try ContainerSettings(f.object("container_settings")),
            prevResult: prevResult, prevResultVersion: prevVersion,
            runtimeConfig: runtimeConfig, raw: value)
    }

    /// The spec's rule for network names: as for container IDs, an alphanumeric then
    /// alphanumerics, `_`, `.` or `-`.
    static func validateNetworkName(_ name: String) throws(CNIError) {
        guard !name.isEmpty else { throw CNIError.invalidConfig("name", "is required") }
        do { _ = try CNIEnvironment.validContainerID(name) } catch {
            throw CNIError.invalidConfig("name", "\"\(name)\" has invalid characters: use letters, digits, '_', '.', '-', starting with a letter or digit")
        }
    }
}

extension NetworkConfig.IPAMSection {
    init(_ top: JSONFields) throws(CNIError) {
        guard let ipam = try top.object("ipam") else {
            throw CNIError.invalidConfig("ipam", "is required (e.g. {\"type\": \"calico-ipam\"})")
        }
        let type = try ipam.string("type") ?? ""
        guard !type.isEmpty else { throw CNIError.invalidConfig("ipam.type", "is required") }
        self.init(type: type, subnet: try ipam.string("subnet"), raw: top.raw("ipam") ?? .null)
    }
}

extension NetworkConfig.PolicySection {
    init(_ f: JSONFields?) throws(CNIError) {
        let type = try f?.string("type") ?? ""
        guard type.isEmpty || type == "k8s" else {
            throw CNIError.unsupported("policy.type", type, "only \"k8s\" is supported")
        }
        self.init(type: type, k8sAPIRoot: try f?.string("k8s_api_root"), k8sAuthToken: try f?.string("k8s_auth_token"),
                  k8sClientCertificate: try f?.string("k8s_client_certificate"),
                  k8sClientKey: try f?.string("k8s_client_key"),
                  k8sCertificateAuthority: try f?.string("k8s_certificate_authority"))
    }
}

extension NetworkConfig.KubernetesSection {
    init(_ f: JSONFields?) throws(CNIError) {
        self.init(kubeconfig: try f?.string("kubeconfig"), k8sAPIRoot: try f?.string("k8s_api_root"),
                  nodeName: try f?.string("node_name"))
    }
}

extension NetworkConfig.FeatureControl {
    init(_ f: JSONFields?) throws(CNIError) {
        self.init(ipAddrsNoIpam: try f?.bool("ip_addrs_no_ipam") ?? false, floatingIPs: try f?.bool("floating_ips") ?? false)
    }
}

extension NetworkConfig.ContainerSettings {
    init(_ f: JSONFields?) throws(CNIError) {
        self.init(allowIPForwarding: try f?.bool("allow_ip_forwarding") ?? false)
    }
}
