@testable import Core
import XCTest

/// Exactly the requests the calico and calico-ipam plugins make are forwarded by the agent.
final class AgentAPIAllowListTests: XCTestCase {
    private let crd = "/apis/crd.projectcalico.org/v1"

    func testThePluginsRequestsAreAllowed() {
        let allowed: [(String, String)] = [
            ("GET", "/api/v1/nodes/node-1"),
            ("GET", "/api/v1/namespaces/default/pods/web-0"),
            ("PATCH", "/api/v1/namespaces/kube-system/pods/coredns-5d78c9869d-abcde"),
            ("GET", "\(crd)/ippools"), ("GET", "\(crd)/ippools?limit=1"),
            ("GET", "\(crd)/ipamblocks"), ("GET", "\(crd)/ipamblocks/10-77-0-0-26"),
            ("POST", "\(crd)/ipamblocks"), ("PUT", "\(crd)/ipamblocks/10-77-0-0-26"),
            ("GET", "\(crd)/blockaffinities/node-1-10-77-0-0-26"), ("POST", "\(crd)/blockaffinities"),
            ("PUT", "\(crd)/blockaffinities/node-1-10-77-0-0-26"), ("DELETE", "\(crd)/blockaffinities/node-1-10-77-0-0-26"),
            ("GET", "\(crd)/ipamhandles/k8s-pod-network.abc123"), ("POST", "\(crd)/ipamhandles"),
            ("PUT", "\(crd)/ipamhandles/k8s-pod-network.abc123"), ("DELETE", "\(crd)/ipamhandles/k8s-pod-network.abc123"),
            ("get", "/api/v1/nodes/n"),
        ]
        for (m, t) in allowed {
            XCTAssertEqual(AgentAPIAllowList.check(method: m, target: t), .allow, "\(m) \(t)")
        }
    }

    func testEverythingElseIsForbiddenWithAReason() {
        let forbidden: [(String, String)] = [
            ("GET", "/api/v1/secrets"), ("GET", "/api/v1/namespaces/default/secrets/token"),
            ("GET", "/api/v1/nodes"),  // listing Nodes
            ("PATCH", "/api/v1/nodes/node-1"), ("DELETE", "/api/v1/namespaces/default/pods/web-0"),
            ("GET", "/api/v1/namespaces/default/pods"),  // listing Pods
            ("POST", "/api/v1/namespaces/default/pods"),
            ("GET", "/api/v1/namespaces/default/pods/web-0/exec"),
            ("DELETE", "\(crd)/ippools/default-ipv4-ippool"), ("POST", "\(crd)/ippools"),
            ("DELETE", "\(crd)/ipamblocks/10-77-0-0-26"), ("GET", "\(crd)/ipamhandles"),
            ("GET", "\(crd)/felixconfigurations/default"), ("GET", "\(crd)/globalnetworkpolicies"),
            ("GET", "/apis/crd.projectcalico.org/v2/ippools"), ("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles"),
            ("GET", "\(crd)/ippools?watch=true"), ("GET", "\(crd)/ipamblocks?watch=1&limit=5"),
            ("GET", "/api/v1/nodes/node-1?pretty=true"),  // a query on a single object
            ("GET", "/version"),
        ]
        for (m, t) in forbidden {
            guard case .forbid(let message) = AgentAPIAllowList.check(method: m, target: t) else {
                XCTFail("\(m) \(t) was not forbidden: \(AgentAPIAllowList.check(method: m, target: t))")
                continue
            }
            XCTAssertTrue(message.contains("does not forward"), message)
        }
        guard case .forbid(let m) = AgentAPIAllowList.check(method: "GET", target: "\(crd)/ippools?watch=true") else { return XCTFail() }
        XCTAssertTrue(m.contains("watch"), m)
    }

    func testTraversalAndEncodedSlashesAreMalformed() {
        for t in ["/api/v1/nodes/../secrets/x", "/api/v1/nodes/.", "/api/v1//nodes/a", "/api/v1/nodes/a%2Fb",
                  "api/v1/nodes/a", "/api/v1/nodes/a b", "/api/v1/nodes/", "*", "/", "http://evil/api/v1/nodes/a"] {
            guard case .malformed = AgentAPIAllowList.check(method: "GET", target: t) else {
                XCTFail("\(t): \(AgentAPIAllowList.check(method: "GET", target: t))")
                continue
            }
        }
    }
}
