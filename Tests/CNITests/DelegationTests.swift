import Core
import Foundation
import XCTest
@testable import CNI

final class DelegationTests: XCTestCase {
    func testEnvironmentOnlyChangesTheCommand() {
        let runtime = Fixture.env("ADD")
        let env = Delegation.environment(runtime, command: .del)
        XCTAssertEqual(env["CNI_COMMAND"], "DEL")
        XCTAssertEqual(env.filter { $0.key != "CNI_COMMAND" }, runtime.filter { $0.key != "CNI_COMMAND" })
    }

    func testStdinKeepsEverythingAndReplacesIPAM() throws {
        let config = try NetworkConfig.decode(Fixture.config(extra: ["custom": .int(7)]))
        XCTAssertEqual(json(Delegation.stdin(for: config)), json(Fixture.config(extra: ["custom": .int(7)])))
        let resolved: JSONValue = json(#"{"type":"host-local","ranges":[[{"subnet":"10.244.1.0/24"}]]}"#)
        let out = json(Delegation.stdin(for: config, ipam: resolved))
        XCTAssertEqual(out["ipam"], resolved)
        XCTAssertEqual(out["custom"], .int(7))
        XCTAssertEqual(out["name"], .string("k8s-pod-network"))
    }

    func testCalicoAddResultShape() throws {
        let ipamOut = Data(#"{"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.244.1.5/32"}],"dns":{}}"#.utf8)
        let (ipam, _) = try CNIResult.decode(ipamOut, defaultVersion: .v0_3_1)
        let r = Delegation.calicoAddResult(ipam: ipam, hostVethName: "calic440f455693")
        XCTAssertEqual(r.json(for: .v0_3_1),
                       json(#"{"cniVersion":"0.3.1","interfaces":[{"name":"calic440f455693"}],"ips":[{"version":"4","address":"10.244.1.5/32"}],"dns":{}}"#))
    }
}
