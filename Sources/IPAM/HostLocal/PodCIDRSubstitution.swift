import Core

/// host-local's `"subnet": "usePodCidr"` (and `"usePodCidrIPv6"`), as Calico's plugin reads it:
/// the marker is replaced with this Node's spec.podCIDR(s) of that family before the real
/// host-local plugin is run. The marker may stand in the top-level `subnet` or in any range of
/// `ranges` (a list of range sets, each a list of ranges). Pure: the Node's CIDRs come in.
public enum HostLocalPodCIDR {
    public static let ipv4Marker = "usePodCidr"
    public static let ipv6Marker = "usePodCidrIPv6"

    /// Whether the ipam section names a marker anywhere (so the Node must be read first).
    public static func needsPodCIDR(_ ipam: JSONValue) -> Bool {
        if isMarker(ipam["subnet"]) { return true }
        for set in ipam["ranges"]?.arrayValue ?? [] {
            for range in set.arrayValue ?? [] where isMarker(range["subnet"]) { return true }
        }
        return false
    }

    /// The ipam section with every marker replaced by the first pod CIDR of its family.
    public static func substitute(_ ipam: JSONValue, podCIDRs: [String]) throws(HostLocalPodCIDRError) -> JSONValue {
        var out = ipam
        if let subnet = ipam["subnet"], isMarker(subnet) {
            out["subnet"] = .string(try cidr(for: subnet, podCIDRs, field: "ipam.subnet"))
        }
        if let sets = ipam["ranges"]?.arrayValue {
            var newSets: [JSONValue] = []
            for (i, set) in sets.enumerated() {
                guard let ranges = set.arrayValue else { newSets.append(set); continue }
                var newRanges: [JSONValue] = []
                for (j, range) in ranges.enumerated() {
                    var r = range
                    if let subnet = range["subnet"], isMarker(subnet) {
                        r["subnet"] = .string(try cidr(for: subnet, podCIDRs, field: "ipam.ranges[\(i)][\(j)].subnet"))
                    }
                    newRanges.append(r)
                }
                newSets.append(.array(newRanges))
            }
            out["ranges"] = .array(newSets)
        }
        return out
    }

    private static func isMarker(_ value: JSONValue?) -> Bool {
        value?.stringValue == ipv4Marker || value?.stringValue == ipv6Marker
    }

    private static func cidr(for marker: JSONValue, _ podCIDRs: [String], field: String) throws(HostLocalPodCIDRError) -> String {
        let wantV6 = marker.stringValue == ipv6Marker
        guard let found = podCIDRs.first(where: { IPNet(parsing: $0).map { $0.isIPv6 == wantV6 } ?? false }) else {
            throw HostLocalPodCIDRError(field: field, marker: marker.stringValue ?? "", podCIDRs: podCIDRs)
        }
        return found
    }
}

/// The Node has no pod CIDR of the family a marker asks for (yet: the controller manager
/// assigns them when it allocates node CIDRs).
public struct HostLocalPodCIDRError: Error, Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var marker: String
    public var podCIDRs: [String]

    public var description: String {
        let family = marker == HostLocalPodCIDR.ipv6Marker ? "IPv6" : "IPv4"
        let have = podCIDRs.isEmpty ? "none" : podCIDRs.joined(separator: ", ")
        return "\(field) is \"\(marker)\" but this Node has no \(family) spec.podCIDR (it has: \(have)); "
            + "start kube-controller-manager with --allocate-node-cidrs, or set the subnet explicitly"
    }
}
