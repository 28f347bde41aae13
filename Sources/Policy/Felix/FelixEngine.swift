import Core

/// Felix's state without I/O: datastore updates in, the desired nftables ruleset and local
/// endpoints out. A policy that does not convert (bad selector, bad port, bad CIDR) is left out
/// entirely, never half-applied, and stays listed in `policyErrors` until fixed or deleted.
public struct FelixEngine: Sendable {
    public let nodeName: String
    public private(set) var calculator: PolicyCalculator
    /// Policies that failed to convert, with the reason.
    public private(set) var policyErrors: [PolicyKey: String] = [:]
    /// Layered configuration and what could not be used in it.
    public private(set) var config: FelixConfig
    public private(set) var configIssues: [FelixConfigIssue]
    private var globalLayer: FelixConfigLayering.Layer = [:]
    private var nodeLayer: FelixConfigLayering.Layer = [:]
    private let environment: [String: String]

    public init(nodeName: String, environment: [String: String] = [:]) {
        self.nodeName = nodeName
        self.environment = environment
        let (config, issues) = FelixConfigLayering.resolve(environment: environment)
        self.config = config
        configIssues = issues
        calculator = PolicyCalculator(nodeName: nodeName, config: CalcConfig(endpointToHostAction: config.defaultEndpointToHostAction, interfacePrefix: config.interfacePrefix,
                                                                                     ipv6: config.ipv6Support))
    }

    public var state: DataplaneState { calculator.state }

    /// The ruleset the dataplane must hold now.
    public func ruleset() -> NFTRuleset { RulesetRenderer.render(calculator.state) }

    /// Named-port IP sets that a rule needs and nothing resolves (the rule matches nothing).
    public var unresolvedNamedPorts: [IPSetID] {
        calculator.state.ipSets.filter { $0.key.isNamedPort && $0.value.isEmpty }.map(\.key).sorted()
    }

    public struct Outcome: Sendable, Equatable {
        /// A policy failed to convert (key, reason).
        public var policyError: (key: PolicyKey, reason: String)?
        /// The effective configuration changed.
        public var configChanged = false

        public static func == (a: Outcome, b: Outcome) -> Bool {
            a.policyError?.key == b.policyError?.key && a.policyError?.reason == b.policyError?.reason && a.configChanged == b.configChanged
        }
    }

    @discardableResult
    public mutating func apply(_ update: FelixUpdate) -> Outcome {
        var outcome = Outcome()
        switch update {
        case .pod(let pod):
            let key = "\(pod.metadata.namespace ?? "default")/\(pod.metadata.name)"
            if let endpoint = WorkloadEndpoint(pod: pod, interfacePrefix: config.interfacePrefix), !endpoint.addresses.isEmpty {
                calculator.apply(.endpointUpdated(endpoint))
            } else {
                calculator.apply(.endpointRemoved(key: key))
            }
        case .podDeleted(let namespace, let name):
            calculator.apply(.endpointRemoved(key: "\(namespace)/\(name)"))
        case .namespace(let ns):
            calculator.apply(.profileUpdated(Profile(namespace: ns)))
        case .namespaceDeleted(let name):
            calculator.apply(.profileRemoved(name: "kns.\(name)"))
        case .serviceAccount(let sa):
            calculator.apply(.profileUpdated(Profile(serviceAccount: sa)))
        case .serviceAccountDeleted(let namespace, let name):
            calculator.apply(.profileRemoved(name: "ksa.\(namespace).\(name)"))
        case .k8sPolicy(let p):
            let key = PolicyKey(namespace: p.metadata.namespace ?? "default", name: "knp.default.\(p.metadata.name)")
            outcome.policyError = setPolicy(key) { () throws(PolicyConversionError) in try K8sPolicyConversion.policy(p) }
        case .k8sPolicyDeleted(let namespace, let name):
            removePolicy(PolicyKey(namespace: namespace, name: "knp.default.\(name)"))
        case .calicoPolicy(let p):
            let key = PolicyKey(namespace: p.metadata.namespace ?? "default", name: p.metadata.name)
            outcome.policyError = setPolicy(key) { () throws(PolicyConversionError) in try Policy(calico: p) }
        case .calicoPolicyDeleted(let namespace, let name):
            removePolicy(PolicyKey(namespace: namespace, name: name))
        case .globalPolicy(let p):
            outcome.policyError = setPolicy(PolicyKey(name: p.metadata.name)) { () throws(PolicyConversionError) in try Policy(global: p) }
        case .globalPolicyDeleted(let name):
            removePolicy(PolicyKey(name: name))
        case .networkSet(let s):
            calculator.apply(.networkSetUpdated(NetworkSetEntry(networkSet: s)))
        case .networkSetDeleted(let namespace, let name):
            calculator.apply(.networkSetRemoved(key: "\(namespace)/\(name)"))
        case .globalNetworkSet(let s):
            calculator.apply(.networkSetUpdated(NetworkSetEntry(globalNetworkSet: s)))
        case .globalNetworkSetDeleted(let name):
            calculator.apply(.networkSetRemoved(key: name))
        case .felixConfiguration(let c):
            outcome.configChanged = setConfigLayer(name: c.metadata.name, FelixConfigLayering.layer(c))
        case .felixConfigurationDeleted(let name):
            outcome.configChanged = setConfigLayer(name: name, [:])
        }
        return outcome
    }

    private mutating func setPolicy(_ key: PolicyKey, _ convert: () throws(PolicyConversionError) -> Policy) -> (key: PolicyKey, reason: String)? {
        do {
            let policy = try convert()
            policyErrors[key] = nil
            calculator.apply(.policyUpdated(policy))
            return nil
        } catch {
            policyErrors[key] = error.description
            calculator.apply(.policyRemoved(key))
            return (key, error.description)
        }
    }

    private mutating func removePolicy(_ key: PolicyKey) {
        policyErrors[key] = nil
        calculator.apply(.policyRemoved(key))
    }

    private mutating func setConfigLayer(name: String, _ layer: FelixConfigLayering.Layer) -> Bool {
        switch name {
        case "default": globalLayer = layer
        case "node.\(nodeName)": nodeLayer = layer
        default: return false
        }
        let (next, issues) = FelixConfigLayering.resolve(global: globalLayer, node: nodeLayer, environment: environment)
        configIssues = issues
        guard next != config else { return false }
        config = next
        let calc = CalcConfig(endpointToHostAction: next.defaultEndpointToHostAction, interfacePrefix: next.interfacePrefix,
                              ipv6: next.ipv6Support)
        if calc != calculator.state.config { calculator.apply(.configUpdated(calc)) }
        return true
    }
}
