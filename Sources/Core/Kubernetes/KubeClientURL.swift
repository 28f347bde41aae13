import Foundation

/// Paths and query strings of the Kubernetes REST API (pure: no I/O).
enum KubeURL {
    typealias Query = [(name: String, value: String)]

    /// RFC 3986 unreserved characters: everything else in a query value is percent-encoded, so
    /// selectors like `a in (x,y)` or `tier!=db` survive intact.
    private static let unreserved = CharacterSet(charactersIn:
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func encode(_ component: String) -> String {
        component.addingPercentEncoding(withAllowedCharacters: unreserved) ?? component
    }

    /// `server` (no trailing slash needed) + `path` + the encoded query.
    static func url(server: String, path: String, query: Query = []) -> String {
        var base = server
        while base.hasSuffix("/") { base.removeLast() }
        let p = path.hasPrefix("/") ? path : "/" + path
        guard !query.isEmpty else { return base + p }
        return base + p + "?" + query.map { encode($0.name) + "=" + encode($0.value) }.joined(separator: "&")
    }

    /// An object's or a collection's path with namespace and name percent-encoded. A namespaced
    /// kind addressed by name without a namespace means `default`, as with kubectl.
    static func path(_ kind: ResourceKind, namespace: String?, name: String?) -> String {
        var ns = namespace.flatMap { $0.isEmpty ? nil : $0 }
        if kind.namespaced, name != nil, ns == nil { ns = "default" }
        return kind.path(namespace: ns.map(encode), name: name.map(encode))
    }

    static func listQuery(_ options: ListOptions) -> Query {
        var q: Query = []
        if let s = options.labelSelector, !s.isEmpty { q.append(("labelSelector", s)) }
        if let s = options.fieldSelector, !s.isEmpty { q.append(("fieldSelector", s)) }
        if let limit = options.limit, limit > 0 { q.append(("limit", String(limit))) }
        if let token = options.continueToken, !token.isEmpty { q.append(("continue", token)) }
        if let rv = options.resourceVersion, !rv.isEmpty { q.append(("resourceVersion", rv)) }
        if let t = options.timeoutSeconds, t > 0 { q.append(("timeoutSeconds", String(t))) }
        return q
    }

    static func watchQuery(_ options: ListOptions) -> Query {
        var q: Query = [("watch", "true")]
        if let s = options.labelSelector, !s.isEmpty { q.append(("labelSelector", s)) }
        if let s = options.fieldSelector, !s.isEmpty { q.append(("fieldSelector", s)) }
        if let rv = options.resourceVersion, !rv.isEmpty { q.append(("resourceVersion", rv)) }
        if options.allowWatchBookmarks { q.append(("allowWatchBookmarks", "true")) }
        if let t = options.timeoutSeconds, t > 0 { q.append(("timeoutSeconds", String(t))) }
        return q
    }

    /// Accepts only http(s)://host… so that a typo fails at startup, not at the first request.
    static func isValidServer(_ server: String) -> Bool {
        guard let url = URL(string: server), let scheme = url.scheme?.lowercased(),
              scheme == "https" || scheme == "http", let host = url.host, !host.isEmpty else { return false }
        return url.query == nil && url.fragment == nil
    }
}
