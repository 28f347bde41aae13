/// `ctl get workloadendpoints`: the endpoints the Kubernetes datastore derives from pods (there
/// is no stored WorkloadEndpoint), as calicoctl lists them.
public enum CtlWorkloadEndpoints {
    /// Endpoints of the pods that have one, sorted by node then workload.
    public static func endpoints(_ pods: [Pod]) -> [WorkloadEndpoint] {
        pods.compactMap { WorkloadEndpoint(pod: $0) }.sorted { ($0.node, $0.namespace, $0.pod) < ($1.node, $1.namespace, $1.pod) }
    }

    /// The seed's table (HOSTNAME ORCHESTRATOR WORKLOAD NAME); wide adds NETWORKS, INTERFACE
    /// and PROFILES.
    public static func table(_ endpoints: [WorkloadEndpoint], wide: Bool) -> [[String]] {
        var header = ["HOSTNAME", "ORCHESTRATOR", "WORKLOAD", "NAME"]
        if wide { header += ["NETWORKS", "INTERFACE", "PROFILES"] }
        return [header] + endpoints.map { e in
            var row = [e.node, "k8s", "\(e.namespace).\(e.pod)", "eth0"]
            if wide {
                row += [e.addresses.map(\.description).joined(separator: ","), e.interfaceName, e.profiles.joined(separator: ",")]
            }
            return row
        }
    }

    /// calicoctl's projectcalico.org/v3 WorkloadEndpoint object, for `-o yaml|json`.
    public static func object(_ e: WorkloadEndpoint) -> JSONValue {
        let ports: [JSONValue] = e.ports.map {
            .object(["name": .string($0.name), "protocol": .string($0.protocol.description), "port": .int(Int64($0.port))])
        }
        return .object([
            "apiVersion": .string(CtlResource.calicoV3), "kind": .string("WorkloadEndpoint"),
            "metadata": .object(["name": .string(e.name), "namespace": .string(e.namespace),
                                 "labels": .object(e.labels.mapValues(JSONValue.string))]),
            "spec": .object([
                "orchestrator": .string("k8s"), "node": .string(e.node), "pod": .string(e.pod), "endpoint": .string("eth0"),
                "interfaceName": .string(e.interfaceName),
                "ipNetworks": .array(e.addresses.map { .string($0.description) }),
                "profiles": .array(e.profiles.map(JSONValue.string)),
                "serviceAccountName": e.serviceAccount.map(JSONValue.string) ?? .string(""),
                "ports": .array(ports),
            ]),
        ])
    }
}
