import XCTest
@testable import CNI

final class EnvironmentTests: XCTestCase {
    func testAddParsesEverything() throws {
        let env = try CNIEnvironment.parse(Fixture.env("ADD"))
        XCTAssertEqual(env.command, .add)
        XCTAssertEqual(env.containerID, "abc123")
        XCTAssertEqual(env.netns, "/var/run/netns/pod1")
        XCTAssertEqual(env.ifName, "eth0")
        XCTAssertEqual(env.paths, ["/opt/cni/bin", "/usr/lib/cni"])
        XCTAssertEqual(env.args.podNamespace, "default")
        XCTAssertEqual(env.args.podName, "nginx")
        XCTAssertEqual(env.args.infraContainerID, "abc123")
        XCTAssertTrue(env.args.ignoreUnknown)
    }

    func testMissingCommandAndUnknownCommand() {
        assertCNIError(.invalidEnvironment, mentions: "CNI_COMMAND") { try CNIEnvironment.parse([:]) }
        assertCNIError(.invalidEnvironment, mentions: "CNI_COMMAND \"ATTACH\"") {
            try CNIEnvironment.parse(["CNI_COMMAND": "ATTACH"])
        }
    }

    // The spec's table: what each command requires beyond CNI_COMMAND.
    func testRequiredVariablesPerCommand() {
        let table: [(String, [String], [String])] = [
            ("ADD", ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"], ["CNI_PATH", "CNI_ARGS"]),
            ("DEL", ["CNI_CONTAINERID", "CNI_IFNAME"], ["CNI_NETNS", "CNI_PATH", "CNI_ARGS"]),
            ("CHECK", ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"], ["CNI_ARGS"]),
            ("GC", ["CNI_PATH"], ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS"]),
            ("STATUS", [], ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH"]),
            ("VERSION", [], ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH"]),
        ]
        for (command, required, optional) in table {
            for variable in required {
                assertCNIError(.invalidEnvironment, mentions: variable) {
                    try CNIEnvironment.parse(Fixture.env(command, remove: [variable]))
                }
                // An empty value counts as unset.
                var empty = Fixture.env(command)
                empty[variable] = ""
                assertCNIError(.invalidEnvironment, mentions: variable) { try CNIEnvironment.parse(empty) }
            }
            XCTAssertNoThrow(try CNIEnvironment.parse(Fixture.env(command, remove: optional)), "\(command) without \(optional)")
        }
    }

    func testAllMissingVariablesAreNamed() {
        assertCNIError(.invalidEnvironment, mentions: "CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME") {
            try CNIEnvironment.parse(["CNI_COMMAND": "ADD"])
        }
    }

    func testDelWithoutNetnsHasNilNetns() throws {
        let env = try CNIEnvironment.parse(Fixture.env("DEL", netns: nil))
        XCTAssertNil(env.netns)
        XCTAssertEqual(env.containerID, "abc123")
    }

    func testContainerIDCharacters() {
        assertRejected("CNI_CONTAINERID", ["-abc", "a b", "a/b", "_x", "ä1"])
        var ok = Fixture.env("ADD")
        ok["CNI_CONTAINERID"] = "A1_b.c-d"
        XCTAssertNoThrow(try CNIEnvironment.parse(ok))
    }

    func testInterfaceNameRules() {
        assertRejected("CNI_IFNAME", ["0123456789abcdef", ".", "..", "eth/0", "eth:0", "eth 0", "eth\t0"])
        var ok = Fixture.env("ADD")
        ok["CNI_IFNAME"] = "0123456789abcde"
        XCTAssertNoThrow(try CNIEnvironment.parse(ok))
    }

    private func assertRejected(_ variable: String, _ values: [String], line: UInt = #line) {
        for bad in values {
            var e = Fixture.env("ADD")
            e[variable] = bad
            assertCNIError(.invalidEnvironment, mentions: variable, line: line) { try CNIEnvironment.parse(e) }
        }
    }

    func testCNIArgsParsing() throws {
        let a = try CNIArgs.parse("IgnoreUnknown=true;K8S_POD_NAME=web;FOO=bar=baz;;")
        XCTAssertEqual(a.podName, "web")
        XCTAssertEqual(a.pairs["FOO"], "bar=baz")
        XCTAssertNil(a.podNamespace)
        XCTAssertEqual(try CNIArgs.parse("").pairs, [:])
        XCTAssertEqual(try CNIArgs.parse("K8S_POD_NAMESPACE=ns;IP=10.0.0.9").requestedIP, "10.0.0.9")
        assertCNIError(.invalidEnvironment, mentions: "FOO") { try CNIArgs.parse("K8S_POD_NAME=web;FOO=1") }
        assertCNIError(.invalidEnvironment, mentions: "FOO") { try CNIArgs.parse("IgnoreUnknown=0;FOO=1") }
        assertCNIError(.invalidEnvironment, mentions: "CNI_ARGS") { try CNIArgs.parse("K8S_POD_NAME") }
        assertCNIError(.invalidEnvironment, mentions: "CNI_ARGS") { try CNIArgs.parse("=x") }
    }

    func testBadCNIArgsFailsAttachmentCommandsOnly() {
        assertCNIError(.invalidEnvironment, mentions: "CNI_ARGS") {
            try CNIEnvironment.parse(Fixture.env("ADD", args: "garbage"))
        }
        XCTAssertNoThrow(try CNIEnvironment.parse(Fixture.env("STATUS", args: "garbage")))
    }
}
