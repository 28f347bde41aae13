@testable import Core
import XCTest

final class TransportPreloadTests: XCTestCase {
    func testOnlyAnAddOrDelForAPodPreloads() {
        let pod = "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=c1"
        XCTAssertTrue(TransportPreload.cniInvocationNeedsAPI(["CNI_COMMAND": "ADD", "CNI_ARGS": pod]))
        XCTAssertTrue(TransportPreload.cniInvocationNeedsAPI(["CNI_COMMAND": "DEL", "CNI_ARGS": pod]))
        XCTAssertFalse(TransportPreload.cniInvocationNeedsAPI(["CNI_COMMAND": "CHECK", "CNI_ARGS": pod]))
        XCTAssertFalse(TransportPreload.cniInvocationNeedsAPI(["CNI_COMMAND": "VERSION", "CNI_ARGS": pod]))
        XCTAssertFalse(TransportPreload.cniInvocationNeedsAPI(["CNI_COMMAND": "ADD"]))
        XCTAssertFalse(TransportPreload.cniInvocationNeedsAPI(["CNI_COMMAND": "ADD", "CNI_ARGS": "K8S_POD_NAME="]))
        XCTAssertFalse(TransportPreload.cniInvocationNeedsAPI(["CNI_COMMAND": "ADD", "CNI_ARGS": "X_K8S_POD_NAME=a"]))
    }

    func testPreloadIsIdempotentAndLoadsLibcurl() {
        TransportPreload.start()
        TransportPreload.start()
        // The first user waits for the load in progress and sees the same library.
        XCTAssertNotNil(LibCurl.version())
        XCTAssertNoThrow(try LibCurl.get())
    }
}
