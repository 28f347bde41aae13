import Foundation
import Logging
import Synchronization

/// The agent's own Node, kept by a GET and a watch, so that a plugin's usePodCidr read of it
/// (`GET /api/v1/nodes/<name>`, every k8s pod ADD) is answered on the agent's event loop without
/// a request to the API server. Served only while fresh: the GET's answer, then each watch
/// event's object, while the watch that started from the GET's resourceVersion runs. A watch
/// that ends or fails, a deleted Node or an error answer makes it stale, and a stale cache
/// answers nothing (the request is forwarded) until the next GET. A changed podCIDR thus
/// reaches the plugins as fast as the watch delivers it.
public final class AgentNodeCache: Sendable {
    public let node: String
    private let target: String
    /// The Node's JSON while fresh, else nil.
    private let fresh = Mutex<Data?>(nil)
    private let runner = Mutex<Task<Void, Never>?>(nil)

    public init(node: String) {
        self.node = node
        target = "/api/v1/nodes/" + node
    }

    /// The answer to a plugin's GET of `target`, when it is this Node's and the cache is fresh.
    public func answer(method: String, target: String) -> AgentAPIRouting.Answer? {
        guard target == self.target, method == "GET" else { return nil }
        return fresh.withLock { $0 }.map { AgentAPIRouting.Answer(status: 200, body: $0) }
    }

    public var isFresh: Bool { fresh.withLock { $0 != nil } }

    /// Keeps the cache through `api` until `stop()`. A watch the server ended is followed
    /// again at once; after a failure (no such Node yet, the API unreachable) the next try waits
    /// `retryDelay`, doubled per failure up to 30 s.
    public func start(api: KubeClient, logger: Logger, retryDelay: Duration = .milliseconds(500)) {
        let task = Task { [self] in
            var delay = retryDelay
            while !Task.isCancelled {
                do {
                    try await follow(api)
                    delay = retryDelay
                } catch is CancellationError { break } catch {
                    fresh.withLock { $0 = nil }
                    logger.debug("Node \(node) cache for the CNI plugins: \(error); their reads of it are forwarded meanwhile")
                    try? await Task.sleep(for: delay)
                    delay = min(delay * 2, .seconds(30))
                }
                fresh.withLock { $0 = nil }
            }
            fresh.withLock { $0 = nil }
        }
        runner.withLock { $0?.cancel(); $0 = task }
    }

    public func stop() {
        runner.withLock { $0?.cancel(); $0 = nil }
        fresh.withLock { $0 = nil }
    }

    /// One GET, then the watch from its version; returns (stale) when the watch ends.
    private func follow(_ api: KubeClient) async throws {
        let (status, body) = try await api.forward(method: "GET", target: target, body: nil, contentType: nil)
        guard status == 200, let version = try? JSONWire.parse(body)["metadata"]?["resourceVersion"]?.stringValue else {
            throw KubeError.decode("GET \(target) answered \(status)")
        }
        let options = ListOptions(fieldSelector: "metadata.name=" + node, resourceVersion: version, timeoutSeconds: 300)
        // The watch starts at the GET's version, so no change after the GET is missed.
        fresh.withLock { $0 = body }
        for try await event in api.watch(K8sNode.self, options: options) {
            switch event.kind {
            case .added, .modified:
                let json = event.object.raw.map { Data(JSONWire.encodeSorted($0)) }
                fresh.withLock { $0 = json }
                if json == nil { return }
            case .deleted:
                return
            case .bookmark:
                break
            }
        }
    }
}
