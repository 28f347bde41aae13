import Foundation

extension KubeClient {
    /// GET …?watch=true streamed through the shared loop; each line of the body is one event.
    /// Finishing the consuming task (or dropping the stream) aborts the request.
    public func watch<T: KubeResource>(_ type: T.Type, options: ListOptions) -> AsyncThrowingStream<WatchEvent<T>, Error> {
        let path = KubeURL.path(T.resource, namespace: options.namespace, name: nil)
        let url = KubeURL.url(server: connection.server, path: path, query: KubeURL.watchQuery(options))
        // Let the server end the watch at timeoutSeconds; only a server silent well past it is cut.
        let timeout = options.timeoutSeconds.map { Double($0) + self.options.connectTimeout + 30 }
        let bytes = transport.stream(HTTPRequest(url: url, timeout: timeout))
        return AsyncThrowingStream { continuation in
            let task = Task {
                var splitter = LineSplitter()
                do {
                    for try await chunk in bytes {
                        for line in try splitter.append(chunk) {
                            if let event = try WatchEventDecoder.decode(T.self, line: line) { continuation.yield(event) }
                        }
                    }
                    if let last = splitter.finish(), let event = try WatchEventDecoder.decode(T.self, line: last) {
                        continuation.yield(event)
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: KubeErrorMapping.error(from: error))
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
