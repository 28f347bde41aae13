import Core
import Foundation
import XCTest

/// RFC 6902 JSON patches: `JSONPatch` itself, and the dev API server applying them
/// (`application/json-patch+json`) with the real server's answers: 422 for a patch that does
/// not apply (a failed test, a missing path), 400 for one that is not a patch, 404 for no object.
final class DevClusterJSONPatchTests: XCTestCase {
    private var server: DevServer?

    override func tearDown() {
        server?.stop()
        if let server { try? FileManager.default.removeItem(atPath: server.dataDir) }
    }

    private func patch(_ text: String, _ doc: String) throws -> JSONValue {
        try JSONPatch.apply(try JSONWire.parse(Data(text.utf8)), to: try JSONWire.parse(Data(doc.utf8)))
    }

    func testApplyFollowsTheRFC() throws {
        let doc = #"{"a":{"b/c":1,"d~e":[1,2]},"x":"y"}"#
        XCTAssertEqual(try patch(#"[{"op":"test","path":"/a/b~1c","value":1},{"op":"replace","path":"/a/d~0e/1","value":3}]"#, doc),
                       try JSONWire.parse(Data(#"{"a":{"b/c":1,"d~e":[1,3]},"x":"y"}"#.utf8)))
        XCTAssertEqual(try patch(#"[{"op":"add","path":"/a/d~0e/-","value":9},{"op":"add","path":"/a/d~0e/0","value":0},{"op":"remove","path":"/x"}]"#, doc),
                       try JSONWire.parse(Data(#"{"a":{"b/c":1,"d~e":[0,1,2,9]}}"#.utf8)))
        XCTAssertEqual(try patch(#"[{"op":"copy","from":"/x","path":"/z"},{"op":"move","from":"/a/b~1c","path":"/n"}]"#, doc),
                       try JSONWire.parse(Data(#"{"a":{"d~e":[1,2]},"x":"y","z":"y","n":1}"#.utf8)))
        XCTAssertEqual(try patch(#"[{"op":"add","path":"/x","value":"new"}]"#, doc)["x"], .string("new"), "add replaces a member")
        XCTAssertThrowsError(try patch(#"[{"op":"test","path":"/x","value":"z"}]"#, doc)) {
            XCTAssertEqual($0 as? JSONPatch.Failure, .notApplicable("test of /x failed"))
        }
        for notApplicable in [#"[{"op":"test","path":"/missing","value":1}]"#, #"[{"op":"replace","path":"/missing","value":1}]"#,
                              #"[{"op":"remove","path":"/missing"}]"#, #"[{"op":"add","path":"/no/such","value":1}]"#,
                              #"[{"op":"add","path":"/a/d~0e/5","value":1}]"#] {
            XCTAssertThrowsError(try patch(notApplicable, doc), notApplicable) {
                guard case .notApplicable = $0 as? JSONPatch.Failure else { return XCTFail("\($0) for \(notApplicable)") }
            }
        }
        for malformed in [#"{"op":"add"}"#, #"[{"op":"frob","path":"/x"}]"#, #"[{"op":"add","path":"/x"}]"#, #"[{"op":"add","path":"x","value":1}]"#] {
            XCTAssertThrowsError(try patch(malformed, doc), malformed) {
                guard case .malformed = $0 as? JSONPatch.Failure else { return XCTFail("\($0) for \(malformed)") }
            }
        }
        XCTAssertEqual(JSONPatch.mergeDiff(from: try JSONWire.parse(Data(#"{"a":{"b":1,"c":2},"d":3}"#.utf8)),
                                           to: try JSONWire.parse(Data(#"{"a":{"b":1,"c":5},"e":4}"#.utf8))),
                       try JSONWire.parse(Data(#"{"a":{"c":5},"d":null,"e":4}"#.utf8)))
    }

    func testTheDevServerAppliesJSONPatches() async throws {
        let server = try DevServer.start()
        self.server = server
        let api = try KubeClient(connection: try DatastoreConfig.load(environment: ["KUBECONFIG": server.tokenKubeconfig]))
        let name = "djp-\(getpid())"
        _ = try await api.create(Pod(metadata: ObjectMeta(name: name, namespace: "default",
                                                          annotations: ["cni.projectcalico.org/containerID": "c1", "keep": "me"])))
        let ok = try JSONWire.parse(Data(#"[{"op":"test","path":"/metadata/annotations/cni.projectcalico.org~1containerID","value":"c1"},{"op":"add","path":"/metadata/annotations/cni.projectcalico.org~1podIP","value":""}]"#.utf8))
        try await api.applyJSONPatch(Pod.self, name: name, namespace: "default", jsonPatch: ok)
        let pod = try await api.get(Pod.self, name: name, namespace: "default")
        XCTAssertEqual(pod.metadata.annotations, ["cni.projectcalico.org/containerID": "c1", "keep": "me", "cni.projectcalico.org/podIP": ""])
        let version = pod.metadata.resourceVersion

        let wrongID = try JSONWire.parse(Data(#"[{"op":"test","path":"/metadata/annotations/cni.projectcalico.org~1containerID","value":"c2"},{"op":"add","path":"/metadata/annotations/keep","value":"changed"}]"#.utf8))
        do {
            try await api.applyJSONPatch(Pod.self, name: name, namespace: "default", jsonPatch: wrongID)
            XCTFail("a failed test must not apply")
        } catch KubeError.api(let code, let status) {
            XCTAssertEqual(code, 422)
            XCTAssertTrue(status.message?.contains("test of /metadata/annotations/cni.projectcalico.org~1containerID failed") == true, "\(status)")
        }
        let after = try await api.get(Pod.self, name: name, namespace: "default")
        XCTAssertEqual(after.metadata.annotations?["keep"], "me")
        XCTAssertEqual(after.metadata.resourceVersion, version, "nothing written")

        do {
            try await api.applyJSONPatch(Pod.self, name: name, namespace: "default", jsonPatch: .object(["op": .string("add")]))
            XCTFail("not a patch")
        } catch KubeError.api(let code, _) { XCTAssertEqual(code, 400) }
        do {
            try await api.applyJSONPatch(Pod.self, name: name + "-missing", namespace: "default", jsonPatch: ok)
            XCTFail("no such Pod")
        } catch KubeError.notFound {}

        // The protocol's fallback (in-memory fakes) gives the same result and the same 422.
        let memory = InMemoryKubeAPI()
        _ = try await memory.create(Pod(metadata: ObjectMeta(name: name, namespace: "default",
                                                             annotations: ["cni.projectcalico.org/containerID": "c1", "keep": "me"])))
        try await memory.applyJSONPatch(Pod.self, name: name, namespace: "default", jsonPatch: ok)
        let m = try await memory.get(Pod.self, name: name, namespace: "default")
        XCTAssertEqual(m.metadata.annotations, ["cni.projectcalico.org/containerID": "c1", "keep": "me", "cni.projectcalico.org/podIP": ""])
        do {
            try await memory.applyJSONPatch(Pod.self, name: name, namespace: "default", jsonPatch: wrongID)
            XCTFail("a failed test must not apply")
        } catch KubeError.api(let code, _) { XCTAssertEqual(code, 422) }
    }
}
