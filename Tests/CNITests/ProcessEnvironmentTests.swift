#if canImport(Glibc)
import Glibc
#endif
import Foundation
import XCTest
@testable import CNI

/// PluginIO.processEnvironment reads `environ` itself (cheaper than ProcessInfo's copy) and
/// must agree with it.
final class ProcessEnvironmentTests: XCTestCase {
    func testMatchesProcessInfoAndSeesNewVariables() {
        let name = "CALICO_TEST_ENV_\(getpid())"
        setenv(name, "a=b; c", 1)
        defer { unsetenv(name) }
        let env = PluginIO.processEnvironment()
        XCTAssertEqual(env[name], "a=b; c")
        XCTAssertEqual(env["PATH"], ProcessInfo.processInfo.environment["PATH"])
        XCTAssertEqual(Set(env.keys), Set(ProcessInfo.processInfo.environment.keys))
    }

    func testTrimmedWhitespace() {
        XCTAssertEqual(" node-1\n".trimmedWhitespace, "node-1")
        XCTAssertEqual("\t\r\n ".trimmedWhitespace, "")
        XCTAssertEqual("a b".trimmedWhitespace, "a b")
        XCTAssertEqual("".trimmedWhitespace, "")
    }
}
