import Core

/// What explain needs from the datastore: the same updates felix's reflectors deliver, fed
/// through `FelixEngine` (felix's own conversion and calculation) for the source's and the
/// destination's node.
public struct ExplainSnapshot: Sendable {
    public var updates: [FelixUpdate]
    /// FELIX_* settings (the interface prefix names the endpoints' interfaces).
    public var environment: [String: String]
    /// Kinds that could not be listed (custom resources not installed), left out as felix would see none.
    public var missingKinds: [String]

    public init(updates: [FelixUpdate], environment: [String: String] = [:], missingKinds: [String] = []) {
        self.updates = updates
        self.environment = environment
        self.missingKinds = missingKinds
    }

    /// Lists every kind felix watches. Calico's custom resources answer 404 when their
    /// definitions are not installed: felix then sees none, and so does explain.
    public static func load(api: any KubeAPI, environment: [String: String] = [:]) async throws -> ExplainSnapshot {
        var updates: [FelixUpdate] = []
        var missing: [String] = []
        func list<T: KubeResource>(_ type: T.Type, _ kind: String, optional: Bool, _ wrap: (T) -> FelixUpdate) async throws {
            do {
                updates += try await api.list(type).items.map(wrap)
            } catch KubeError.notFound where optional {
                missing.append(kind)
            }
        }
        try await list(Namespace.self, "namespaces", optional: false) { .namespace($0) }
        try await list(ServiceAccount.self, "serviceaccounts", optional: false) { .serviceAccount($0) }
        try await list(Pod.self, "pods", optional: false) { .pod($0) }
        try await list(K8sNetworkPolicy.self, "networkpolicies", optional: false) { .k8sPolicy($0) }
        try await list(CalicoNetworkPolicy.self, "networkpolicies.crd.projectcalico.org", optional: true) { .calicoPolicy($0) }
        try await list(GlobalNetworkPolicy.self, "globalnetworkpolicies", optional: true) { .globalPolicy($0) }
        try await list(NetworkSet.self, "networksets", optional: true) { .networkSet($0) }
        try await list(GlobalNetworkSet.self, "globalnetworksets", optional: true) { .globalNetworkSet($0) }
        try await list(FelixConfiguration.self, "felixconfigurations", optional: true) { .felixConfiguration($0) }
        return ExplainSnapshot(updates: updates, environment: environment, missingKinds: missing)
    }

    /// Felix's engine on `node` after every update.
    public func engine(node: String) -> FelixEngine {
        var engine = FelixEngine(nodeName: node, environment: environment)
        for update in updates { engine.apply(update) }
        return engine
    }

    /// Policies felix leaves out because they do not convert, with the reason.
    public var policyErrors: [PolicyKey: String] {
        var engine = FelixEngine(nodeName: "", environment: environment)
        for update in updates {
            switch update {
            case .k8sPolicy, .calicoPolicy, .globalPolicy: engine.apply(update)
            default: continue
            }
        }
        return engine.policyErrors
    }

    public func pod(_ key: String) -> Pod? {
        for case .pod(let pod) in updates where "\(pod.metadata.namespace ?? "default")/\(pod.metadata.name)" == key { return pod }
        return nil
    }

    /// Explains a flow between two pods named `<namespace>/<name>`. The address pair is of
    /// `ipVersion`, or IPv4 when both pods have one, else IPv6.
    public func explain(from: String, to: String, protocol proto: IPProtocol, sourcePort: UInt16? = nil,
                        destinationPort: UInt16? = nil, icmpType: UInt8? = nil, icmpCode: UInt8? = nil,
                        ipVersion: Int? = nil) throws(ExplainError) -> (flow: ExplainFlow, result: ExplainResult) {
        let source = try endpointPod(from), destination = try endpointPod(to)
        let sourceEngine = engine(node: source.node)
        let destinationEngine = destination.node == source.node ? sourceEngine : engine(node: destination.node)
        guard let a = sourceEngine.calculator.inputs.endpoints[source.key] else { throw .noEndpoint(source.key, node: source.node) }
        guard let b = destinationEngine.calculator.inputs.endpoints[destination.key] else {
            throw .noEndpoint(destination.key, node: destination.node)
        }
        let versions = ipVersion.map { [$0] } ?? [4, 6]
        var pair: (IPNet, IPNet)?
        for v in versions {
            if let x = a.addresses.first(where: { $0.ipVersion == v }), let y = b.addresses.first(where: { $0.ipVersion == v }) {
                pair = (x, y)
                break
            }
        }
        guard let (sourceAddress, destinationAddress) = pair else {
            let lacking = a.addresses.contains { versions.contains($0.ipVersion) } ? b.key : a.key
            throw .noAddress(lacking, ipVersion: ipVersion)
        }
        let flow = ExplainFlow(source: a.key, destination: b.key, sourceAddress: sourceAddress, destinationAddress: destinationAddress,
                               protocol: proto, sourcePort: sourcePort, destinationPort: destinationPort,
                               icmpType: icmpType, icmpCode: icmpCode)
        let result = try ExplainEvaluator.explain(flow, sourceNode: source.node, sourceState: sourceEngine.state,
                                                  destinationNode: destination.node, destinationState: destinationEngine.state)
        return (flow, result)
    }

    /// The endpoint of the pod named `<namespace>/<name>` as felix on its node programs it.
    public func endpointView(_ pod: String) throws(ExplainError) -> EndpointView {
        let (key, node) = try endpointPod(pod)
        let engine = engine(node: node)
        guard let endpoint = engine.calculator.inputs.endpoints[key],
              let view = EndpointView.make(interface: endpoint.interfaceName, node: node, state: engine.state,
                                           ruleset: RulesetRenderer.render(engine.state))
        else { throw .noEndpoint(key, node: node) }
        return view
    }

    private func endpointPod(_ text: String) throws(ExplainError) -> (key: String, node: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw .badPodName(text) }
        guard let pod = pod(text) else { throw .podNotFound(text) }
        guard let node = pod.spec.nodeName, !node.isEmpty else { throw .notScheduled(text) }
        return (text, node)
    }
}
