/// Calico NetworkPolicy and GlobalNetworkPolicy to felix's Policy, with rule selectors scoped
/// as Calico's update processors scope them.
extension Policy {
    /// A namespaced Calico NetworkPolicy: its selector and its rules' endpoint selectors are
    /// confined to its namespace unless a rule names a namespaceSelector.
    public init(calico policy: CalicoNetworkPolicy) throws(PolicyConversionError) {
        let namespace = policy.metadata.namespace ?? "default"
        try self.init(spec: policy.spec, key: PolicyKey(namespace: namespace, name: policy.metadata.name))
    }

    /// A GlobalNetworkPolicy: selectors range over every namespace; its `namespaceSelector`
    /// narrows the endpoints it applies to.
    public init(global policy: GlobalNetworkPolicy) throws(PolicyConversionError) {
        try self.init(spec: policy.spec, key: PolicyKey(name: policy.metadata.name))
    }

    init(spec: CalicoPolicySpec, key: PolicyKey) throws(PolicyConversionError) {
        let namespace = key.namespace
        var terms = [try Self.selector(spec.selector, field: "selector") ?? .all]
        if let namespace {
            terms.append(.equals(WorkloadEndpoint.namespaceLabel, namespace))
        } else if let nsSelector = try Self.selector(spec.namespaceSelector, field: "namespaceSelector") {
            terms.append(nsSelector.prefixingKeys(with: SelectorLabelPrefix.namespace))
        }
        if let saSelector = try Self.selector(spec.serviceAccountSelector, field: "serviceAccountSelector") {
            terms.append(saSelector.prefixingKeys(with: SelectorLabelPrefix.serviceAccount))
        }
        let ingress = try Self.rules(spec.ingress ?? [], namespace: namespace, field: "ingress")
        let egress = try Self.rules(spec.egress ?? [], namespace: namespace, field: "egress")
        self.init(key: key, tier: spec.tier.flatMap { $0.isEmpty ? nil : $0 } ?? "default", order: spec.order,
                  selector: .conjunction(terms), types: try Self.types(spec), ingress: ingress, egress: egress)
    }

    /// Explicit types, else Ingress plus Egress when egress rules exist (Calico's default).
    private static func types(_ spec: CalicoPolicySpec) throws(PolicyConversionError) -> PolicyTypes {
        guard let given = spec.types, !given.isEmpty else {
            return PolicyTypes(ingress: true, egress: !(spec.egress ?? []).isEmpty)
        }
        var types = PolicyTypes(ingress: false, egress: false)
        for type in given {
            switch type.lowercased() {
            case "ingress": types.ingress = true
            case "egress": types.egress = true
            default: throw .badPolicyType(type)
            }
        }
        return types
    }

    static func rules(_ rules: [CalicoRule], namespace: String?, field: String) throws(PolicyConversionError) -> [PolicyRule] {
        var out: [PolicyRule] = []
        for (index, rule) in rules.enumerated() {
            out.append(try PolicyRule(calico: rule, namespace: namespace, field: "\(field)[\(index)]"))
        }
        return out
    }

    static func selector(_ text: String?, field: String) throws(PolicyConversionError) -> SelectorExpr? {
        guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        do { return try SelectorExpr.parse(text) } catch { throw .badSelector(field: field, error) }
    }
}

extension PolicyRule {
    /// One Calico rule; `namespace` is the policy's (nil for a global policy).
    public init(calico rule: CalicoRule, namespace: String?, field: String) throws(PolicyConversionError) {
        guard let action = RuleAction.allCases.first(where: { $0.rawValue.lowercased() == rule.action.lowercased() }) else {
            throw .badAction(field: "\(field).action", value: rule.action)
        }
        if let version = rule.ipVersion, version != 4, version != 6 {
            throw .badIPVersion(field: "\(field).ipVersion", value: version)
        }
        self.init(action: action, ipVersion: rule.ipVersion,
                  protocol: try Self.proto(rule.protocol, field: "\(field).protocol"),
                  notProtocol: try Self.proto(rule.notProtocol, field: "\(field).notProtocol"),
                  icmp: try Self.icmp(rule.icmp, field: "\(field).icmp"),
                  notICMP: try Self.icmp(rule.notICMP, field: "\(field).notICMP"),
                  source: try EntityMatch(calico: rule.source, namespace: namespace, field: "\(field).source"),
                  destination: try EntityMatch(calico: rule.destination, namespace: namespace, field: "\(field).destination"))
    }

    private static func proto(_ value: IntOrString?, field: String) throws(PolicyConversionError) -> IPProtocol? {
        guard let value else { return nil }
        guard let proto = IPProtocol(value) else { throw .badProtocol(field: field, value: value.description) }
        return proto
    }

    private static func icmp(_ value: CalicoRule.ICMPMatch?, field: String) throws(PolicyConversionError) -> ICMPMatch? {
        guard let value, value.type != nil || value.code != nil else { return nil }
        guard let type = value.type, let t = UInt8(exactly: type) else { throw .badICMP(field: field) }
        guard let code = value.code else { return ICMPMatch(type: t) }
        guard let c = UInt8(exactly: code) else { throw .badICMP(field: field) }
        return ICMPMatch(type: t, code: c)
    }
}

extension EntityMatch {
    /// A Calico EntityRule. Endpoint selectors (selector, notSelector, serviceAccounts) are
    /// ANDed with the namespace scope: the rule's namespaceSelector over `pcns.` labels, else the
    /// policy's own namespace; a namespaceSelector alone selects every endpoint in those namespaces.
    public init(calico entity: EntityRule?, namespace: String?, field: String) throws(PolicyConversionError) {
        guard let entity else { self.init(); return }
        let selector = try Policy.selector(entity.selector, field: "\(field).selector")
        let notSelector = try Policy.selector(entity.notSelector, field: "\(field).notSelector")
        let nsSelector = try Policy.selector(entity.namespaceSelector, field: "\(field).namespaceSelector")
        var saTerms: [SelectorExpr] = []
        if let accounts = entity.serviceAccounts {
            if let names = accounts.names, !names.isEmpty {
                saTerms.append(.oneOf(WorkloadEndpoint.serviceAccountLabel, names))
            }
            if let sel = try Policy.selector(accounts.selector, field: "\(field).serviceAccounts.selector") {
                saTerms.append(sel.prefixingKeys(with: SelectorLabelPrefix.serviceAccount))
            }
        }

        var scope: SelectorExpr?
        if let nsSelector {
            scope = nsSelector.prefixingKeys(with: SelectorLabelPrefix.namespace)
        } else if let namespace, selector != nil || notSelector != nil || !saTerms.isEmpty {
            scope = .equals(WorkloadEndpoint.namespaceLabel, namespace)
        }
        var positive: SelectorExpr?
        if selector != nil || scope != nil || !saTerms.isEmpty {
            positive = .conjunction([selector ?? .all] + saTerms + [scope ?? .all])
        }
        self.init(nets: try Self.nets(entity.nets, field: "\(field).nets"),
                  notNets: try Self.nets(entity.notNets, field: "\(field).notNets"),
                  selector: positive, notSelector: notSelector.map { .conjunction([$0, scope ?? .all]) },
                  ports: try Self.ports(entity.ports), notPorts: try Self.ports(entity.notPorts))
    }

    static func nets(_ values: [String]?, field: String) throws(PolicyConversionError) -> [IPNet] {
        var out: [IPNet] = []
        for value in values ?? [] {
            guard let net = IPNet(parsing: value) else { throw .badNet(field: field, value: value) }
            out.append(net)
        }
        return out
    }

    static func ports(_ values: [CalicoPort]?) throws(PolicyConversionError) -> [PortMatch] {
        (values ?? []).map { port in
            switch port {
            case .number(let n): return .number(n)
            case .range(let lo, let hi): return .range(lo, hi)
            case .named(let name): return .named(name)
            }
        }
    }
}

extension SelectorExpr {
    /// `allOf` with nested conjunctions flattened, so scoping a selector keeps one flat `&&`.
    static func conjunction(_ terms: [SelectorExpr]) -> SelectorExpr {
        .allOf(terms.flatMap { term -> [SelectorExpr] in
            if case .and(let operands) = term { return operands }
            return [term]
        })
    }
}
