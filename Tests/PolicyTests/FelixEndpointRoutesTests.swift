import Core
import XCTest
@testable import Policy

final class FelixEndpointRoutesTests: XCTestCase {
    func testHostRoutesForEndpointsWhoseInterfacesExist() {
        let endpoints = [
            LocalEndpoint(interfaceName: "cali2", addresses: [IPNet(parsing: "10.0.0.2/32")!, IPNet(parsing: "fd00::2/128")!]),
            LocalEndpoint(interfaceName: "cali1", addresses: [IPNet(parsing: "10.0.0.1/32")!]),
            LocalEndpoint(interfaceName: "caliGone", addresses: [IPNet(parsing: "10.0.0.3/32")!]),
        ]
        let routes = EndpointRoutePlan.routes(endpoints, linkIndex: { ["cali1": 11, "cali2": 12][$0] })
        XCTAssertEqual(routes.map(\.destination.description), ["10.0.0.1/32", "10.0.0.2/32", "fd00::2/128"])
        XCTAssertEqual(routes.map { $0.nextHops.first?.linkIndex }, [11, 12, 12])
        XCTAssertTrue(routes.allSatisfy { $0.proto == .calicoFelix && $0.scope == .link })
    }

    func testEndpointFromPlan() {
        let plan = EndpointPlan(key: "x/a", name: "n-k8s-a-eth0", interfaceName: "caliA", addresses: [IPNet(parsing: "10.0.0.9/32")!],
                                ingress: [], egress: [], profiles: [])
        XCTAssertEqual(LocalEndpoint(plan), LocalEndpoint(interfaceName: "caliA", addresses: [IPNet(parsing: "10.0.0.9/32")!]))
    }
}
