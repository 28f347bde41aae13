import XCTest
@testable import CNI
import Core

final class SHA1AndNamesTests: XCTestCase {
    // Expected digests from: python3 -c "import hashlib; print(hashlib.sha1(S.encode()).hexdigest())"
    func testSHA1KnownVectors() {
        XCTAssertEqual(SHA1.hexDigest(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(SHA1.hexDigest("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(SHA1.hexDigest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        XCTAssertEqual(SHA1.hexDigest("é☃"), "9c81504d7acef9bccc3cac23360a22ab9b7d587b")
    }

    // Lengths around the padding boundary (55, 56, 64 bytes) and a multi-block input.
    func testSHA1PaddingBoundariesAndLongInput() {
        XCTAssertEqual(SHA1.hexDigest(String(repeating: "a", count: 55)), "c1c8bbdc22796e28c0e15163d20899b65621d65a")
        XCTAssertEqual(SHA1.hexDigest(String(repeating: "a", count: 56)), "c2db330f6083854c99d4b5bfb6e8f29f201be699")
        XCTAssertEqual(SHA1.hexDigest(String(repeating: "a", count: 64)), "0098ba824b5c16427bd7a1122a5a442a25ec644d")
        XCTAssertEqual(SHA1.hexDigest(String(repeating: "a", count: 1_000_000)), "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
        XCTAssertEqual(SHA1.digest([UInt8]()).count, 20)
    }

    // Expected names from:
    // python3 -c "import hashlib; print('cali'+hashlib.sha1(b'default.nginx').hexdigest()[:11])"
    func testHostVethNames() {
        XCTAssertEqual(CalicoNames.hostVethName(namespace: "default", pod: "nginx"), "calic440f455693")
        XCTAssertEqual(CalicoNames.hostVethName(namespace: "kube-system", pod: "coredns-5d78c9869d-abcde"), "cali4d5f75c480c")
        XCTAssertEqual(CalicoNames.hostVethName(namespace: "default", pod: "busybox-0"), "cali796e814e27c")
        XCTAssertEqual(CalicoNames.hostVethName(namespace: "default", pod: "nginx").count, 15)
        XCTAssertEqual(CalicoNames.hostVethName(namespace: "default", pod: "nginx", prefix: "tap"), "tapc440f455693")
    }

    func testWorkloadEndpointNameDoublesDashesInEachPart() {
        XCTAssertEqual(CalicoNames.workloadEndpointName(node: "node-1", pod: "nginx"), "node--1-k8s-nginx-eth0")
        XCTAssertEqual(CalicoNames.workloadEndpointName(node: "kind-worker", pod: "web-7d4b9c-x2x", interface: "eth0"),
                       "kind--worker-k8s-web--7d4b9c--x2x-eth0")
        XCTAssertEqual(CalicoNames.workloadEndpointName(node: "n", pod: "p", interface: "net-1"), "n-k8s-p-net--1")
    }

    func testIPAMHandle() {
        XCTAssertEqual(CalicoNames.ipamHandle(containerID: "abc123"), "k8s-pod-network.abc123")
        XCTAssertEqual(CalicoNames.ipamHandle(network: "mynet", containerID: "c1"), "mynet.c1")
    }
}
