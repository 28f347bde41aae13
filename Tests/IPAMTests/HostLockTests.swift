import Foundation
import IPAM
import XCTest

final class HostLockTests: XCTestCase {
    func testSecondHolderWaitsForTheFirst() throws {
        let dir = NSTemporaryDirectory() + "ipamlock-\(getpid())-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/sub/ipam.lock"
        XCTAssertEqual(HostLock.path(environment: ["CALICO_IPAM_LOCK_FILE": path]), path)
        XCTAssertEqual(HostLock.path(environment: [:]), "/var/run/calico/ipam.lock")

        let first = try HostLock(path: path)  // creates the missing directory too
        let acquired = DispatchSemaphore(value: 0)
        let released = LockedFlag()
        Thread.detachNewThread {
            // flock locks belong to the open file description, so a second open in the same
            // process contends exactly as another process would.
            guard let second = try? HostLock(path: path) else { return }
            XCTAssertTrue(released.value, "the second holder got the lock while the first held it")
            second.unlock()
            acquired.signal()
        }
        XCTAssertEqual(acquired.wait(timeout: .now() + 0.3), .timedOut, "the lock did not wait")
        released.value = true
        first.unlock()
        XCTAssertEqual(acquired.wait(timeout: .now() + 5), .success)
    }

    func testUnwritablePathIsAClearError() {
        XCTAssertThrowsError(try HostLock(path: "/proc/ipam-test/ipam.lock")) {
            guard case IPAMError.lockFailed(let path, _) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(path, "/proc/ipam-test/ipam.lock")
            XCTAssertTrue("\($0)".contains("CALICO_IPAM_LOCK_FILE"))
        }
    }
}

private final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = false
    var value: Bool {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
