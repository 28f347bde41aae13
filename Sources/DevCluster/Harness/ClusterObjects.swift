import Core
import Foundation

/// The API objects the harness registers, playing the parts of the kubelet (Node, pod status)
/// and of a user (Namespace, Pod). Builders are pure; `register`/`createPod` take any KubeAPI.
enum ClusterObjects {
    static func node(_ n: ClusterPlan.Node) -> K8sNode {
        var meta = ObjectMeta(name: n.name,
                              labels: ["kubernetes.io/hostname": n.name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"],
                              annotations: ["projectcalico.org/IPv4Address": n.address])
        meta.namespace = nil
        return K8sNode(metadata: meta, spec: K8sNodeSpec(podCIDR: n.podCIDR, podCIDRs: [n.podCIDR]),
                       status: K8sNodeStatus(addresses: [.init(type: "InternalIP", address: n.addressOnly),
                                                         .init(type: "Hostname", address: n.name)],
                                             conditions: [.init(type: "Ready", status: "True", reason: "KubeletReady",
                                                                message: "calico-devcluster node")]))
    }

    /// `ports` are `NAME=PORT[/PROTOCOL]`.
    static func pod(namespace: String, name: String, node: String, labels: [String: String], ports: [ContainerPort]) -> Pod {
        Pod(metadata: ObjectMeta(name: name, namespace: namespace, labels: labels.isEmpty ? nil : labels),
            spec: PodSpec(nodeName: node, containers: [Container(name: "main", image: "calico-devcluster/pause",
                                                                 ports: ports.isEmpty ? nil : ports)]),
            status: PodStatus(phase: "Pending"))
    }

    /// The block size of the pool `up --ipam calico` makes (Calico's default).
    static let poolBlockSize = 26

    static func defaultPool(cidr: String) -> IPPool {
        IPPool(metadata: ObjectMeta(name: "default-ipv4-ippool"),
               spec: IPPoolSpec(cidr: cidr, ipipMode: "Never", natOutgoing: true, blockSize: poolBlockSize, nodeSelector: "all()"))
    }

    /// The merge patch the kubelet's status update amounts to once the sandbox has its IPs.
    static func runningStatus(ips: [String], hostIP: String) -> JSONValue {
        var status: [String: JSONValue] = ["phase": .string("Running"), "hostIP": .string(hostIP)]
        if let first = ips.first {
            status["podIP"] = .string(first)
            status["podIPs"] = .array(ips.map { .object(["ip": .string($0)]) })
        }
        return .object(["status": .object(status)])
    }

    /// `k=v,k2=v2` into labels; the error names the bad entry.
    static func parseLabels(_ text: String?) throws -> [String: String] {
        guard let text, !text.isEmpty else { return [:] }
        var out: [String: String] = [:]
        for item in text.split(separator: ",") {
            let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2, !kv[0].isEmpty else { throw HarnessError("--labels: \"\(item)\" is not key=value") }
            out[String(kv[0])] = String(kv[1])
        }
        return out
    }

    /// `http=80/TCP` (protocol defaults to TCP); `http=80/TCP:8080` also maps host port 8080.
    static func parsePort(_ text: String) throws -> ContainerPort {
        let usage = HarnessError("--port: \"\(text)\" is not NAME=PORT[/PROTOCOL][:HOSTPORT]")
        let kv = text.split(separator: "=", maxSplits: 1)
        let hostSplit = (kv.count == 2 ? kv[1] : kv[0]).split(separator: ":", omittingEmptySubsequences: false)
        guard hostSplit.count <= 2 else { throw usage }
        let parts = hostSplit[0].split(separator: "/")
        guard let port = Int(parts[0]), (1...65535).contains(port), parts.count <= 2 else { throw usage }
        var hostPort: Int?
        if hostSplit.count == 2 {
            guard let h = Int(hostSplit[1]), (1...65535).contains(h) else { throw usage }
            hostPort = h
        }
        let proto = parts.count == 2 ? parts[1].uppercased() : "TCP"
        guard ["TCP", "UDP", "SCTP"].contains(proto) else { throw HarnessError("--port: protocol \(proto) is not TCP, UDP or SCTP") }
        return ContainerPort(name: kv.count == 2 ? String(kv[0]) : nil, containerPort: port, protocol: proto, hostPort: hostPort)
    }

    /// The kubelet's `portMappings` runtimeConfig: one entry per container port with a hostPort.
    static func portMappings(_ ports: [ContainerPort]) -> JSONValue? {
        let mapped = ports.compactMap { p -> JSONValue? in
            guard let host = p.hostPort else { return nil }
            return .object(["hostPort": .int(Int64(host)), "containerPort": .int(Int64(p.containerPort)),
                            "protocol": .string((p.protocol ?? "TCP").lowercased())])
        }
        return mapped.isEmpty ? nil : .array(mapped)
    }

    static func register(_ plan: ClusterPlan, pool: String?, api: KubeAPI) async throws {
        for n in plan.nodes { _ = try await api.create(node(n)) }
        if let pool { _ = try await api.create(defaultPool(cidr: pool)) }
    }

    static func ensureNamespace(_ name: String, api: KubeAPI) async throws {
        do {
            _ = try await api.get(Namespace.self, name: name, namespace: nil)
        } catch KubeError.notFound {
            do { _ = try await api.create(Namespace(metadata: ObjectMeta(name: name))) } catch KubeError.conflict {}
        }
    }
}
