@testable import CNI
import Foundation
import XCTest

/// The check that lets the calico plugin run calico-ipam in-process: only a path that is this
/// very executable (through any symlink) counts.
final class SelfExecutableTests: XCTestCase {
    func testOnlyThisExecutableThroughAnyLinkIsSelf() throws {
        let me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        XCTAssertTrue(SelfExecutable.isSelf(me))
        let dir = NSTemporaryDirectory() + "selfexe-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createSymbolicLink(atPath: dir + "/calico-ipam", withDestinationPath: me)
        XCTAssertTrue(SelfExecutable.isSelf(dir + "/calico-ipam"), "install-cni's link to the binary")
        try FileManager.default.copyItem(atPath: "/bin/sh", toPath: dir + "/other")
        XCTAssertFalse(SelfExecutable.isSelf(dir + "/other"))
        XCTAssertFalse(SelfExecutable.isSelf("/bin/sh"))
        XCTAssertFalse(SelfExecutable.isSelf(dir + "/missing"))
    }
}
