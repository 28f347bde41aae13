import Core
import Foundation
import XCTest
@testable import CNI

/// CHECK's comparison of the expected plan with what the kernel shows.
final class PluginCheckTests: XCTestCase {
    let plan = try! PodNetworkPlan.make(hostVeth: "calia", podInterface: "eth0", netns: "/ns", mtu: 1400,
                                        ipam: CNIResult(ips: [CNIResult.IPConfig(address: CNIIPNetwork("10.0.0.5/24")!)]),
                                        felixOwnsRoutes: false)

    /// What a correct ADD leaves behind.
    func healthy() -> ObservedPod {
        let host = Link(index: 7, name: "calia", mac: PodNetworkPlan.hostMAC, mtu: 1400, isUp: true, kind: "veth")
        let pod = Link(index: 2, name: "eth0", mac: MACAddress("02:00:00:00:00:01"), mtu: 1400, isUp: true, kind: "veth")
        let gw = InetAddress("169.254.1.1")!
        return ObservedPod(
            hostLink: host, hostOwner: "c1",
            hostRoutes: [KernelRoute.onLink(InetPrefix("10.0.0.5/32")!, linkIndex: 7, proto: .boot)],
            podLink: pod, podAddresses: [InetPrefix("10.0.0.5/32")!],
            podNeighbours: [Neighbour(linkIndex: 2, address: gw, mac: PodNetworkPlan.hostMAC)],
            podRoutes: [KernelRoute.onLink(InetPrefix("169.254.1.1/32")!, linkIndex: 2, proto: .boot),
                        KernelRoute(destination: InetPrefix("0.0.0.0/0")!, nextHops: [NextHop(gateway: gw, linkIndex: 2)])])
    }

    func testHealthyPodHasNoProblems() {
        XCTAssertEqual(PodNetworkCheck.problems(expected: plan, observed: healthy(), containerID: "c1"), [])
    }

    func testEachDeviationIsNamed() {
        var o = healthy()
        o.hostRoutes = []
        o.podAddresses = []
        o.podNeighbours = []
        o.podRoutes = []
        o.podLink?.mtu = 1500
        o.hostOwner = "other"
        let problems = PodNetworkCheck.problems(expected: plan, observed: o, containerID: "c1")
        for fragment in ["host route 10.0.0.5/32", "address 10.0.0.5/32 is missing", "permanent neighbour 169.254.1.1",
                         "route 0.0.0.0/0 via 169.254.1.1", "route 169.254.1.1/32 dev eth0", "MTU 1500", "container other"] {
            XCTAssertTrue(problems.contains { $0.contains(fragment) }, "\(fragment) not in \(problems)")
        }
    }

    func testMissingInterfaces() {
        var o = healthy()
        o.hostLink = nil
        o.podLink = nil
        XCTAssertEqual(PodNetworkCheck.problems(expected: plan, observed: o, containerID: "c1"),
                       ["host veth calia is missing", "interface eth0 is missing in /ns"])
    }

    func testPrevResultIPsOfThisAttachment() {
        let prev = CNIResult(
            interfaces: [CNIResult.Interface(name: "calia"), CNIResult.Interface(name: "eth0", sandbox: "/ns"),
                         CNIResult.Interface(name: "net1", sandbox: "/ns")],
            ips: [CNIResult.IPConfig(address: CNIIPNetwork("10.0.0.5/32")!, interface: 1),
                  CNIResult.IPConfig(address: CNIIPNetwork("10.9.0.5/32")!, interface: 2)])
        XCTAssertEqual(PodNetworkCheck.podIPs(of: prev, ifName: "eth0").ips.map(\.address.description), ["10.0.0.5/32"])
    }
}
