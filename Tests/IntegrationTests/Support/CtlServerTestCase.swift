import Foundation
import XCTest

/// A test case with its own development API server and temp dir, and `ctl` running the built
/// `calico-node ctl` against that server (the environment's K8S_* overrides removed).
class CtlServerTestCase: XCTestCase {
    var server: DevServer?
    var tmp = ""
    /// The temp dir's name prefix; one per test class.
    class var tmpPrefix: String { "ctl" }

    override func setUpWithError() throws {
        tmp = NSTemporaryDirectory() + "\(Self.tmpPrefix)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        server = try DevServer.start(dataDir: tmp + "/api")
    }

    override func tearDown() {
        server?.stop()
        try? FileManager.default.removeItem(atPath: tmp)
    }

    func ctl(_ args: [String], stdin: String? = nil) throws -> (status: Int32, out: String, err: String) {
        var env = ProcessInfo.processInfo.environment
        for k in ["K8S_API_ENDPOINT", "K8S_TOKEN", "K8S_CA_FILE", "K8S_CERT_FILE", "K8S_KEY_FILE"] { env.removeValue(forKey: k) }
        env["KUBECONFIG"] = server!.tokenKubeconfig
        return try DevServer.run(try CheckCommandTests.calicoNode(), ["ctl"] + args, environment: env, stdin: stdin)
    }
}
