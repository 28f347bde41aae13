import Core

/// One attachment operation (ADD, DEL, CHECK) with everything parsed.
public struct AttachmentRequest: Sendable, Hashable {
    public var containerID: String
    public var ifName: String
    /// Nil only on DEL (the netns may already be gone).
    public var netns: String?
    public var args: CNIArgs
    public var paths: [String]
    public var config: NetworkConfig

    /// Pod identity from CNI_ARGS, when the runtime is Kubernetes.
    public var podNamespace: String? { args.podNamespace }
    public var podName: String? { args.podName }
}

/// An attachment the runtime still uses (GC's `cni.dev/valid-attachments`).
public struct Attachment: Sendable, Hashable {
    public var containerID: String
    public var ifName: String

    public init(containerID: String, ifName: String) {
        self.containerID = containerID
        self.ifName = ifName
    }
}

public struct GCRequest: Sendable, Hashable {
    public var paths: [String]
    public var config: NetworkConfig
    /// Everything not listed here may be released.
    public var validAttachments: [Attachment]
}

/// What the edge must do for one invocation.
public enum CNIRequest: Sendable, Hashable {
    case add(AttachmentRequest)
    case del(AttachmentRequest)
    case check(AttachmentRequest)
    case status(NetworkConfig, paths: [String])
    case gc(GCRequest)

    public var command: CNICommandKind {
        switch self {
        case .add: return .add
        case .del: return .del
        case .check: return .check
        case .status: return .status
        case .gc: return .gc
        }
    }

    public var config: NetworkConfig {
        switch self {
        case .add(let r), .del(let r), .check(let r): return r.config
        case .status(let c, _): return c
        case .gc(let g): return g.config
        }
    }
}

extension GCRequest {
    /// Reads `cni.dev/valid-attachments`, or `cni.dev/attachments`, the name an earlier
    /// draft used and libcni still sends alongside; a malformed list is code 6 naming it.
    static func validAttachments(in config: NetworkConfig) throws(CNIError) -> [Attachment] {
        let f = try JSONFields(config.raw, path: "")
        let key = f.raw("cni.dev/valid-attachments") == nil ? "cni.dev/attachments" : "cni.dev/valid-attachments"
        var out: [Attachment] = []
        for a in try f.objects(key) {
            guard let id = try a.string("containerID"), let ifName = try a.string("ifname") else {
                throw CNIError.decode("\(a.path): containerID and ifname are required")
            }
            out.append(Attachment(containerID: id, ifName: ifName))
        }
        return out
    }
}
