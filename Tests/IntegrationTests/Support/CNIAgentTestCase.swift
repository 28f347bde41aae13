import Foundation
import XCTest

/// A CNI fixture test with `calico-node cni-api-proxy` agents (what `run` serves) on the
/// test's own socket, stopped at tear-down whatever happened.
class CNIAgentTestCase: CNIFixtureTestCase {
    private(set) var agents: [BackgroundProcess] = []

    override func tearDown() {
        for a in agents { a.stop() }
        agents = []
        super.tearDown()
    }

    var socketPath: String { fx.dir + "/agent/cni.sock" }

    /// An agent on `path` (default: `socketPath`) against `kubeconfig` (default: the server's),
    /// started and serving.
    @discardableResult
    func startAgent(path: String? = nil, kubeconfig: String? = nil, extra: [String] = []) throws -> BackgroundProcess {
        let agent = try BackgroundProcess(executable: try CNIFixture.calicoNodeBinary(),
                                          arguments: ["cni-api-proxy", "--cni-api-socket", path ?? socketPath] + extra,
                                          environment: ["KUBECONFIG": kubeconfig ?? fx.server.tokenKubeconfig,
                                                        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
        agents.append(agent)
        XCTAssertTrue(agent.waitForOutput(timeout: 20) { $0.contains("serving the CNI plugins' API requests") }, agent.output())
        return agent
    }

    /// calico-ipam on CNI_PATH (a link to calico-node) and an IPPool of `cidr`.
    func installCalicoIPAM(pool cidr: String, blockSize: Int) throws {
        try FileManager.default.createSymbolicLink(atPath: fx.binDir + "/calico-ipam", withDestinationPath: try CNIFixture.calicoNodeBinary())
        let pool = """
        {"apiVersion":"crd.projectcalico.org/v1","kind":"IPPool","metadata":{"name":"\(fx.tag)-pool"},"spec":{"cidr":"\(cidr)","blockSize":\(blockSize)}}
        """
        XCTAssertEqual(try fx.server.curl("/apis/crd.projectcalico.org/v1/ippools", method: "POST", body: pool).code, 201)
    }
}
