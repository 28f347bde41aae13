/// crd.projectcalico.org/v1 IPAMBlock: one block of a pool (named after its CIDR with dashes)
/// and which of its addresses are allocated to whom. Written with optimistic concurrency.
public typealias IPAMBlock = SpecResource<IPAMBlockKind, IPAMBlockSpec>

public struct IPAMBlockSpec: Codable, Sendable, Hashable {
    /// Metadata of one allocation; `secondary` holds e.g. `namespace`, `pod`, `node`.
    public struct Attribute: Codable, Sendable, Hashable {
        public var handleID: String?
        public var secondary: [String: String]?

        enum CodingKeys: String, CodingKey {
            case handleID = "handle_id"
            case secondary
        }

        public init(handleID: String?, secondary: [String: String]? = nil) {
            self.handleID = handleID
            self.secondary = secondary
        }
    }

    public var cidr: String
    /// `host:<node>` when the block is affine to a node.
    public var affinity: String?
    public var affinityClaimTime: String?
    /// Deprecated in Calico; kept for round trips.
    public var strictAffinity: Bool
    /// One entry per address of the block: nil when free, else an index into `attributes`.
    public var allocations: [Int?]
    /// Free ordinals, in the order they will be handed out.
    public var unallocated: [Int]
    public var attributes: [Attribute]
    /// Set before deletion so that a concurrent writer gets a conflict.
    public var deleted: Bool?
    public var sequenceNumber: UInt64
    /// Ordinal (as a string) to the block's sequence number when it was allocated.
    public var sequenceNumberForAllocation: [String: UInt64]?

    public init(cidr: String, affinity: String? = nil, affinityClaimTime: String? = nil, strictAffinity: Bool = false,
                allocations: [Int?], unallocated: [Int], attributes: [Attribute] = [], deleted: Bool? = nil,
                sequenceNumber: UInt64 = 0, sequenceNumberForAllocation: [String: UInt64]? = nil) {
        self.cidr = cidr
        self.affinity = affinity
        self.affinityClaimTime = affinityClaimTime
        self.strictAffinity = strictAffinity
        self.allocations = allocations
        self.unallocated = unallocated
        self.attributes = attributes
        self.deleted = deleted
        self.sequenceNumber = sequenceNumber
        self.sequenceNumberForAllocation = sequenceNumberForAllocation
    }

    enum CodingKeys: String, CodingKey {
        case cidr, affinity, affinityClaimTime, strictAffinity, allocations, unallocated, attributes, deleted
        case sequenceNumber, sequenceNumberForAllocation
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cidr = try c.decode(String.self, forKey: .cidr)
        affinity = try c.decodeIfPresent(String.self, forKey: .affinity)
        affinityClaimTime = try c.decodeIfPresent(String.self, forKey: .affinityClaimTime)
        strictAffinity = try c.decodeIfPresent(Bool.self, forKey: .strictAffinity) ?? false
        allocations = try c.decodeIfPresent([Int?].self, forKey: .allocations) ?? []
        unallocated = try c.decodeIfPresent([Int].self, forKey: .unallocated) ?? []
        attributes = try c.decodeIfPresent([Attribute].self, forKey: .attributes) ?? []
        deleted = try c.decodeIfPresent(Bool.self, forKey: .deleted)
        sequenceNumber = try c.decodeIfPresent(UInt64.self, forKey: .sequenceNumber) ?? 0
        sequenceNumberForAllocation = try c.decodeIfPresent([String: UInt64].self, forKey: .sequenceNumberForAllocation)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cidr, forKey: .cidr)
        // An explicit null, so that releasing a block's affinity also clears it in the raw
        // object that `encodedForWrite()` lays these fields over.
        try c.encode(affinity, forKey: .affinity)
        try c.encode(affinityClaimTime, forKey: .affinityClaimTime)
        try c.encode(strictAffinity, forKey: .strictAffinity)
        // Free slots are JSON nulls: an explicit array keeps each address's ordinal.
        var allocs = c.nestedUnkeyedContainer(forKey: .allocations)
        for a in allocations {
            if let a { try allocs.encode(a) } else { try allocs.encodeNil() }
        }
        try c.encode(unallocated, forKey: .unallocated)
        try c.encode(attributes, forKey: .attributes)
        try c.encodeIfPresent(deleted, forKey: .deleted)
        try c.encode(sequenceNumber, forKey: .sequenceNumber)
        try c.encodeIfPresent(sequenceNumberForAllocation, forKey: .sequenceNumberForAllocation)
    }
}

/// crd.projectcalico.org/v1 BlockAffinity: a node's claim on a block, named
/// `<node>-<cidr with dashes>`.
public typealias BlockAffinity = SpecResource<BlockAffinityKind, BlockAffinitySpec>

public struct BlockAffinitySpec: Codable, Sendable, Hashable {
    /// `pending`, `confirmed` or `pendingDeletion`.
    public var state: String
    public var node: String
    public var cidr: String
    /// `"true"` or `"false"`: a string on the wire, for compatibility with older Calico.
    public var deleted: String
    /// `host` (default) or `virtual`.
    public var type: String?

    public init(state: String, node: String, cidr: String, deleted: Bool = false, type: String? = nil) {
        self.state = state
        self.node = node
        self.cidr = cidr
        self.deleted = deleted ? "true" : "false"
        self.type = type
    }

    public var isDeleted: Bool { deleted.lowercased() == "true" }
}

/// crd.projectcalico.org/v1 IPAMHandle: the addresses one allocation owner (e.g.
/// `k8s-pod-network.<containerID>`) holds, counted per block.
public typealias IPAMHandle = SpecResource<IPAMHandleKind, IPAMHandleSpec>

public struct IPAMHandleSpec: Codable, Sendable, Hashable {
    public var handleID: String
    /// Block CIDR to the number of addresses this handle holds in it.
    public var block: [String: Int]
    public var deleted: Bool?

    public init(handleID: String, block: [String: Int] = [:], deleted: Bool? = nil) {
        self.handleID = handleID
        self.block = block
        self.deleted = deleted
    }

    enum CodingKeys: String, CodingKey { case handleID, block, deleted }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        handleID = try c.decode(String.self, forKey: .handleID)
        block = try c.decodeIfPresent([String: Int].self, forKey: .block) ?? [:]
        deleted = try c.decodeIfPresent(Bool.self, forKey: .deleted)
    }
}
