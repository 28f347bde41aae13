/// CNI_ARGS, `K=V;K=V`, as kubelet and containerd pass it. Like Calico (which loads it into
/// the reference library's K8sArgs), a key it does not know is an error unless
/// `IgnoreUnknown` is true; the runtimes always send `IgnoreUnknown=1`.
public struct CNIArgs: Sendable, Hashable {
    /// Every pair, in order of appearance (the last one wins for repeated keys).
    public var pairs: [String: String]

    public static let knownKeys: Set<String> = [
        "IgnoreUnknown", "IP", "K8S_POD_NAMESPACE", "K8S_POD_NAME", "K8S_POD_INFRA_CONTAINER_ID", "K8S_POD_UID",
    ]

    public init(pairs: [String: String] = [:]) { self.pairs = pairs }

    public var podNamespace: String? { nonEmpty("K8S_POD_NAMESPACE") }
    public var podName: String? { nonEmpty("K8S_POD_NAME") }
    public var infraContainerID: String? { nonEmpty("K8S_POD_INFRA_CONTAINER_ID") }
    public var podUID: String? { nonEmpty("K8S_POD_UID") }
    /// A requested address (`IP=10.0.0.5`), honoured by IPAM when set.
    public var requestedIP: String? { nonEmpty("IP") }

    /// `IgnoreUnknown=1` / `true` (any case), as the reference library reads booleans.
    public var ignoreUnknown: Bool {
        guard let v = pairs["IgnoreUnknown"]?.lowercased() else { return false }
        return v == "1" || v == "true"
    }

    private func nonEmpty(_ key: String) -> String? {
        guard let v = pairs[key], !v.isEmpty else { return nil }
        return v
    }

    /// Parses the variable's text. Empty segments (a trailing `;`) are skipped; a segment
    /// without `=` or with an empty key, or an unknown key without IgnoreUnknown, is code 4.
    public static func parse(_ text: String) throws(CNIError) -> CNIArgs {
        var args = CNIArgs()
        for segment in text.split(separator: ";", omittingEmptySubsequences: true) {
            guard let eq = segment.firstIndex(of: "="), eq != segment.startIndex else {
                throw CNIError(.invalidEnvironment, "CNI_ARGS: invalid pair \"\(segment)\", expected KEY=VALUE")
            }
            args.pairs[String(segment[..<eq])] = String(segment[segment.index(after: eq)...])
        }
        if !args.ignoreUnknown {
            let unknown = args.pairs.keys.filter { !knownKeys.contains($0) }.sorted()
            if !unknown.isEmpty {
                throw CNIError(.invalidEnvironment,
                               "CNI_ARGS: unknown keys \(unknown.joined(separator: ", ")); set IgnoreUnknown=1 to allow them")
            }
        }
        return args
    }
}
