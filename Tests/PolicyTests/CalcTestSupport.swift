import Core
@testable import Policy

/// Small builders for calculation and render tests.
enum Fixture {
    static func sel(_ text: String) -> SelectorExpr { try! SelectorExpr.parse(text) }

    static func endpoint(_ pod: String, ns: String = "x", node: String = "n1", ip: String, labels: [String: String] = [:],
                         ports: [EndpointPort] = [], sa: String? = nil) -> WorkloadEndpoint {
        var all = labels
        all["projectcalico.org/namespace"] = ns
        all["projectcalico.org/orchestrator"] = "k8s"
        var profiles = ["kns.\(ns)"]
        if let sa {
            all["projectcalico.org/serviceaccount"] = sa
            profiles.append("ksa.\(ns).\(sa)")
        }
        return WorkloadEndpoint(name: WorkloadEndpoint.endpointName(node: node, pod: pod), namespace: ns, pod: pod, node: node,
                                interfaceName: WorkloadEndpoint.hostInterfaceName(namespace: ns, pod: pod),
                                addresses: [IPNet(parsing: ip)!], labels: all, profiles: profiles, ports: ports)
    }

    static func namespace(_ name: String, labels: [String: String] = [:]) -> Profile {
        var all = labels
        all["kubernetes.io/metadata.name"] = name
        return Profile(namespace: Namespace(metadata: ObjectMeta(name: name, labels: all)))
    }

    static func policy(_ name: String, ns: String? = nil, order: Double? = nil, tier: String = "default",
                       selector: String = "all()", ingress: [PolicyRule]? = nil, egress: [PolicyRule]? = nil) -> Policy {
        var s = sel(selector)
        if let ns { s = .allOf([s, .equals("projectcalico.org/namespace", ns)]) }
        return Policy(key: PolicyKey(namespace: ns, name: name), tier: tier, order: order, selector: s,
                      types: PolicyTypes(ingress: ingress != nil, egress: egress != nil),
                      ingress: ingress ?? [], egress: egress ?? [])
    }

    static func allowFrom(_ selector: String, ports: [PortMatch] = [], proto: IPProtocol? = nil) -> PolicyRule {
        PolicyRule(action: .allow, protocol: proto, source: EntityMatch(selector: sel(selector)),
                   destination: EntityMatch(ports: ports))
    }
}
