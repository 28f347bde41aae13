import XCTest
@testable import Core

final class KubeClientURLTests: XCTestCase {
    func testSelectorsArePercentEncoded() {
        let url = KubeURL.url(server: "https://10.96.0.1:443/", path: "/api/v1/pods",
                              query: [("labelSelector", "a in (x,y),tier!=db"), ("fieldSelector", "spec.nodeName=n1")])
        XCTAssertEqual(url, "https://10.96.0.1:443/api/v1/pods?labelSelector=a%20in%20%28x%2Cy%29%2Ctier%21%3Ddb"
                       + "&fieldSelector=spec.nodeName%3Dn1")
        XCTAssertEqual(KubeURL.encode("k8s.io/app=a&b+c"), "k8s.io%2Fapp%3Da%26b%2Bc")
    }

    func testListQuery() {
        let options = ListOptions(labelSelector: "app=web", limit: 50, continueToken: "tok/en=", resourceVersion: "0")
        let q = KubeURL.listQuery(options)
        XCTAssertEqual(q.map(\.name), ["labelSelector", "limit", "continue", "resourceVersion"])
        XCTAssertEqual(q.map(\.value), ["app=web", "50", "tok/en=", "0"])
        XCTAssertTrue(KubeURL.listQuery(ListOptions()).isEmpty)
    }

    func testWatchQuery() {
        let options = ListOptions(fieldSelector: "metadata.name=n1", resourceVersion: "42", allowWatchBookmarks: true, timeoutSeconds: 300)
        let q = KubeURL.watchQuery(options)
        XCTAssertEqual(q.map { "\($0.name)=\($0.value)" },
                       ["watch=true", "fieldSelector=metadata.name=n1", "resourceVersion=42", "allowWatchBookmarks=true", "timeoutSeconds=300"])
    }

    func testPaths() {
        XCTAssertEqual(KubeURL.path(.node, namespace: nil, name: "node-1"), "/api/v1/nodes/node-1")
        XCTAssertEqual(KubeURL.path(.pod, namespace: nil, name: nil), "/api/v1/pods")
        XCTAssertEqual(KubeURL.path(.pod, namespace: nil, name: "p"), "/api/v1/namespaces/default/pods/p")
        XCTAssertEqual(KubeURL.path(.pod, namespace: "kube-system", name: nil), "/api/v1/namespaces/kube-system/pods")
        XCTAssertEqual(KubeURL.path(.ipPool, namespace: "ignored", name: "default-ipv4-ippool"),
                       "/apis/crd.projectcalico.org/v1/ippools/default-ipv4-ippool")
        XCTAssertEqual(KubeURL.path(.node, namespace: nil, name: "a b/c"), "/api/v1/nodes/a%20b%2Fc")
    }

    func testServerValidation() {
        XCTAssertTrue(KubeURL.isValidServer("https://10.96.0.1:443"))
        XCTAssertTrue(KubeURL.isValidServer("http://127.0.0.1:8080/prefix"))
        XCTAssertFalse(KubeURL.isValidServer("10.96.0.1:443"))
        XCTAssertFalse(KubeURL.isValidServer("ftp://host"))
        XCTAssertFalse(KubeURL.isValidServer("https://"))
        XCTAssertThrowsError(try KubeClient(connection: ClusterConnection(server: "kubernetes:443")))
    }

    func testRedactedURLDropsUserinfo() {
        XCTAssertEqual(CurlTransfer.redacted("https://user:secret@h:1/p"), "https://h:1/p")
        XCTAssertEqual(CurlTransfer.redacted("https://h:1/p?x=a@b"), "https://h:1/p?x=a@b")
    }
}
