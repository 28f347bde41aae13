import Foundation
import XCTest
@testable import Core

/// Drains a reflector's event stream into readable lines (`added ns/a@7`, `updated ns/a@7->9`,
/// `deleted ns/b`, `synced`) that tests wait for and compare.
actor EventRecorder {
    private(set) var lines: [String] = []
    private var task: Task<Void, Never>?

    func follow<T: KubeResource>(_ stream: AsyncStream<ReflectorEvent<T>>) {
        task = Task {
            for await e in stream { self.append(Self.describe(e)) }
        }
    }

    private func append(_ line: String) { lines.append(line) }

    func take() -> [String] {
        defer { lines.removeAll() }
        return lines
    }

    static func describe<T: KubeResource>(_ e: ReflectorEvent<T>) -> String {
        func id(_ o: T) -> String { ReflectorCache<T>.key(o.metadata) }
        switch e {
        case .added(let o): return "added \(id(o))@\(o.metadata.resourceVersion ?? "")"
        case .updated(let old, let new): return "updated \(id(new))@\(old.metadata.resourceVersion ?? "")->\(new.metadata.resourceVersion ?? "")"
        case .deleted(let o): return "deleted \(id(o))"
        case .synced: return "synced"
        }
    }
}

/// Polls `condition` every 10 ms until it holds or `seconds` pass; fails the test on timeout.
func eventually(_ what: String, seconds: Double = 5, file: StaticString = #filePath, line: UInt = #line,
                _ condition: () async throws -> Bool) async rethrows {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return }
        try? await Task.sleep(nanoseconds: 10_000_000)
    }
    XCTFail("timed out waiting for \(what)", file: file, line: line)
}
