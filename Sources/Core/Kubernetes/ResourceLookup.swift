/// Resolves the names users type for a kind (`nodes`, `node`, `no`, `ippools`,
/// `networkpolicies.crd.projectcalico.org`) to a ResourceKind, as kubectl and calicoctl do.
public enum ResourceLookup {
    public struct UnknownKind: Error, CustomStringConvertible {
        public var name: String
        public var description: String {
            "unknown resource type \"\(name)\"; known: " + ResourceKind.all.map(\.plural).sorted().joined(separator: ", ")
        }
    }

    /// Plain names prefer the Calico kinds where Kubernetes has a kind of the same name
    /// (`networkpolicy` is Calico's, as in calicoctl); `GROUP`-qualified names pick exactly.
    public static func kind(named input: String) throws(UnknownKind) -> ResourceKind {
        let name = input.lowercased()
        let (base, group): (String, String?) = {
            guard let dot = name.firstIndex(of: ".") else { return (name, nil) }
            return (String(name[..<dot]), String(name[name.index(after: dot)...]))
        }()
        let matches = ResourceKind.all.filter { kind in
            (group == nil || kind.group == group || (group == "core" && kind.group.isEmpty))
                && (kind.plural == base || kind.singular == base || kind.shortNames.contains(base))
        }
        if let calico = matches.first(where: { $0.group == ResourceKind.calicoGroup }) { return calico }
        guard let first = matches.first else { throw UnknownKind(name: input) }
        return first
    }
}
