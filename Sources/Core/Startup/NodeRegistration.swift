import Foundation

/// The API writes of startup, each idempotent: the Node's Calico annotations and
/// NetworkUnavailable condition, the default IP pools, and ClusterInformation `default`.
public struct NodeRegistration: Sendable {
    public static let annotationPrefix = "projectcalico.org/"
    public let api: KubeAPI

    public init(api: KubeAPI) { self.api = api }

    /// The annotation changes for the chosen addresses and BGP settings, as a merge patch of
    /// metadata.annotations (null removes an annotation, e.g. IPv6Address when IP6=none).
    public static func annotationPatch(ipv4: InetPrefix?, ipv6: InetPrefix?, settings: StartupSettings) -> JSONValue {
        var a: [String: JSONValue] = [:]
        a[annotationPrefix + "IPv4Address"] = ipv4.map { .string($0.description) } ?? .null
        a[annotationPrefix + "IPv6Address"] = ipv6.map { .string($0.description) } ?? .null
        if let asn = settings.asNumber { a[annotationPrefix + "ASNumber"] = .string(asn) }
        if let id = settings.routeReflectorClusterID { a[annotationPrefix + "RouteReflectorClusterID"] = .string(id) }
        return .object(["metadata": .object(["annotations": .object(a)])])
    }

    public func annotate(node: String, patch: JSONValue) async throws(StartupError) {
        do { _ = try await api.patch(K8sNode.self, name: node, namespace: nil, mergePatch: patch) } catch {
            throw Self.failure("annotating Node \(node)", error, node: node)
        }
    }

    /// Creates the default pools when the cluster has no IPPool at all; returns those created.
    public func ensureDefaultPools(_ pools: [DefaultPoolSettings]) async throws(StartupError) -> [String] {
        guard !pools.isEmpty else { return [] }
        do {
            let existing = try await api.listPage(IPPool.self, options: ListOptions(limit: 1))
            guard existing.items.isEmpty else { return [] }
            var created: [String] = []
            for p in pools {
                let pool = IPPool(metadata: ObjectMeta(name: p.name), spec: IPPoolSpec(
                    cidr: p.cidr.description, vxlanMode: p.vxlanMode, ipipMode: p.ipipMode, natOutgoing: p.natOutgoing,
                    blockSize: p.blockSize, nodeSelector: p.nodeSelector))
                do {
                    _ = try await api.create(pool)
                    created.append(p.name)
                } catch KubeError.conflict {
                    // Another node's startup created it first.
                }
            }
            return created
        } catch {
            throw Self.failure("creating the default IP pool", error, node: nil)
        }
    }

    /// Creates ClusterInformation `default` (new cluster GUID, datastoreReady true) or records
    /// this version in the existing one; returns true when it was created.
    public func ensureClusterInformation(clusterType: String) async throws(StartupError) -> Bool {
        do {
            do {
                let info = try await api.get(ClusterInformation.self, name: "default", namespace: nil)
                if info.spec.calicoVersion != CalicoVersion.version || info.spec.clusterType == nil || info.spec.clusterGUID == nil {
                    var spec: [String: JSONValue] = ["calicoVersion": .string(CalicoVersion.version)]
                    if info.spec.clusterType == nil { spec["clusterType"] = .string(clusterType) }
                    if info.spec.clusterGUID == nil { spec["clusterGUID"] = .string(Self.newClusterGUID()) }
                    _ = try await api.patch(ClusterInformation.self, name: "default", namespace: nil, mergePatch: .object(["spec": .object(spec)]))
                }
                return false
            } catch KubeError.notFound {
                let info = ClusterInformation(metadata: ObjectMeta(name: "default"), spec: ClusterInformationSpec(
                    clusterGUID: Self.newClusterGUID(), clusterType: clusterType, calicoVersion: CalicoVersion.version,
                    datastoreReady: true))
                do { _ = try await api.create(info) } catch KubeError.conflict { return false }
                return true
            }
        } catch {
            throw Self.failure("writing ClusterInformation default", error, node: nil)
        }
    }

    /// Sets the Node's NetworkUnavailable condition to False (reason CalicoIsUp), through the
    /// status subresource. The whole conditions list is sent, so a merge patch keeps the others.
    public func markNetworkAvailable(node: K8sNode, now: Date = Date()) async throws(StartupError) {
        var conditions = node.status?.conditions ?? []
        let stamp = ISO8601DateFormatter().string(from: now)
        let condition = K8sNodeStatus.Condition(type: "NetworkUnavailable", status: "False", reason: "CalicoIsUp",
                                                message: "Calico is running on this node", lastHeartbeatTime: stamp,
                                                lastTransitionTime: stamp)
        if let i = conditions.firstIndex(where: { $0.type == "NetworkUnavailable" }) {
            if conditions[i].status == "False" { return }
            conditions[i] = condition
        } else {
            conditions.append(condition)
        }
        do {
            let list = try JSONValue(data: JSONEncoder().encode(conditions))
            let patch = JSONValue.object(["status": .object(["conditions": list])])
            if let client = api as? KubeClient {
                let (status, body) = try await client.raw(method: "PATCH", path: ResourceKind.node.path(name: node.metadata.name) + "/status",
                                                          body: try patch.data(), contentType: "application/merge-patch+json")
                guard (200..<300).contains(status) else { throw KubeErrorMapping.error(code: status, body: body) }
            } else {
                _ = try await api.patch(K8sNode.self, name: node.metadata.name, namespace: nil, mergePatch: patch)
            }
        } catch {
            throw Self.failure("setting NetworkUnavailable=False on Node \(node.metadata.name)", error, node: node.metadata.name)
        }
    }

    static func newClusterGUID() -> String {
        UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }

    static func failure(_ operation: String, _ error: Error, node: String?) -> StartupError {
        if let e = error as? StartupError { return e }
        if let node, case KubeError.notFound = error { return .nodeNotFound(node: node) }
        if APIWait.isRetryable(error) { return .apiUnavailable(operation: operation, detail: "\(error)") }
        return .apiFailure(operation: operation, detail: "\(error)")
    }
}
