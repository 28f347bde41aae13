import Foundation
import Core

/// The Pod annotations the plugin writes, which felix reads to learn a pod's addresses before
/// the kubelet reports them in the Pod's status.
public enum PodAnnotations {
    public static let podIP = "cni.projectcalico.org/podIP"
    public static let podIPs = "cni.projectcalico.org/podIPs"
    public static let containerID = "cni.projectcalico.org/containerID"

    /// ADD: the first address as podIP, all of them comma-joined as podIPs (CIDR form, /32 or
    /// /128, as Calico writes them), and the container ID.
    public static func addPatch(addresses: [InetPrefix], containerID: String) -> JSONValue {
        .object(["metadata": .object(["annotations": .object([
            podIP: .string(addresses.first?.description ?? ""),
            podIPs: .string(addresses.map(\.description).joined(separator: ",")),
            Self.containerID: .string(containerID),
        ])])])
    }

    /// DEL: podIP and podIPs blanked (the annotations stay, empty, as Calico leaves them).
    public static func delPatch() -> JSONValue {
        .object(["metadata": .object(["annotations": .object([podIP: .string(""), podIPs: .string("")])])])
    }

    /// DEL in one request: podIP and podIPs blanked only if the recorded container ID is this
    /// one (a JSON patch whose `test` fails, 422, when it is another, empty or missing; the
    /// caller then reads the Pod and decides with `delApplies`).
    public static func delJSONPatch(containerID: String) -> JSONValue {
        func path(_ key: String) -> JSONValue {
            .string("/metadata/annotations/" + key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1"))
        }
        return .array([
            .object(["op": .string("test"), "path": path(Self.containerID), "value": .string(containerID)]),
            .object(["op": .string("add"), "path": path(podIP), "value": .string("")]),
            .object(["op": .string("add"), "path": path(podIPs), "value": .string("")]),
        ])
    }

    /// The string annotations of a Pod as the server sent it (`KubeAPI.getJSON`).
    public static func of(_ pod: JSONValue) -> [String: String]? {
        pod["metadata"]?["annotations"]?.objectValue?.compactMapValues(\.stringValue)
    }

    /// Whether a DEL for `containerID` may blank the pod's addresses: not when a newer sandbox's
    /// ADD has already written its own container ID.
    public static func delApplies(to annotations: [String: String]?, containerID: String) -> Bool {
        guard let recorded = annotations?[Self.containerID], !recorded.isEmpty else { return true }
        return recorded == containerID
    }
}
