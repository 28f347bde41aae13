import Core
import Foundation
import IPAM

extension CalicoCNIPlugin {
    // MARK: STATUS

    /// Ready when the IPAM plugin is on CNI_PATH, the Kubernetes API answers, and the IPAM
    /// plugin's own STATUS (when it speaks 1.1.0) passes. Anything else is code 50 naming the
    /// cause, or the delegate's own error.
    func status(_ config: NetworkConfig, paths: [String]) async throws(CNIError) {
        let store = PluginDatastore(config: config, environment: environment)
        let delegate = delegate(config, paths: paths, store: store)
        guard delegate.locate() != nil else {
            throw CNIError(.pluginNotAvailable,
                           "IPAM plugin \(config.ipam.type) is not on CNI_PATH (\(paths.joined(separator: ":"))); install it (calico-node install-cni links calico-ipam)")
        }
        let node = nodeName(config)
        do {
            let api = try store.api()
            _ = try await api.get(K8sNode.self, name: node, namespace: nil)
        } catch KubeError.notFound {
            // The API answered; the Node not being registered yet does not stop pods on it.
        } catch {
            throw CNIError(.pluginNotAvailable, "cannot reach the Kubernetes API: \(CNIError.wrapping(error, "get Node \(node)").msg)")
        }
        do {
            try await delegate.status(config, ipam: config.ipam.raw)
        } catch let e where e.code == ErrorCode.incompatibleVersion.rawValue {
            // A delegate older than 1.1.0 has no STATUS; being present is all it can say.
        }
    }

    // MARK: GC

    /// Releases every IPAM reservation and removes every host veth of ours that belongs to no
    /// valid attachment. The IPAM plugin does its own GC when it speaks 1.1.0; for a host-local
    /// too old for that, each stale reservation in its data directory gets a delegated DEL.
    func gc(_ g: GCRequest) async throws(CNIError) {
        let settings = try PluginSettings.read(g.config)
        let valid = Set(g.validAttachments.map(\.containerID))
        let store = PluginDatastore(config: g.config, environment: environment)
        let delegate = delegate(g.config, paths: g.paths, store: store)
        do {
            try await delegate.gc(g.config, ipam: g.config.ipam.raw)
        } catch let e where e.code == ErrorCode.incompatibleVersion.rawValue && g.config.ipam.type == "host-local" {
            let ipam = try await resolvedIPAM(g.config, store)
            let dataDir = HostLocalStore.dataDir(ipamDataDir: g.config.ipam.raw["dataDir"]?.stringValue)
            let validPairs = Set(g.validAttachments.map { "\($0.containerID)/\($0.ifName)" })
            for r in HostLocalStore.reservations(dataDir: dataDir, network: g.config.name)
            where !validPairs.contains("\(r.containerID)/\(r.ifName ?? "")") && !(r.ifName == nil && valid.contains(r.containerID)) {
                var env = ["CNI_CONTAINERID": r.containerID, "CNI_IFNAME": r.ifName ?? "eth0"]
                env["CNI_NETNS"] = ""
                try await delegate.del(g.config, ipam: ipam, environment: env)
            }
        }
        do {
            let host = try Netlink()
            for link in try host.links() where link.name.hasPrefix(settings.interfacePrefix) && link.kind == "veth" {
                guard let owner = HostVethAlias.read(link.name), !valid.contains(owner) else { continue }
                // Each returns at the unregistering, not after the kernel's RCU barrier.
                try DetachedLinkDelete.delete(index: link.index, name: link.name)
            }
        } catch {
            throw CNIError.wrapping(error, "remove stale host veths")
        }
    }
}
