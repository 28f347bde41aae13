import Core

/// The pure operations on one block's allocation table, as Calico keeps it: `allocations[o]`
/// is nil when ordinal `o` is free, else an index into `attributes`; `unallocated` lists the
/// free ordinals in hand-out order (a released ordinal goes to the back, so an address is not
/// handed out again right after its release).
extension IPAMBlockSpec {
    /// A block with every address free.
    public static func empty(cidr: IPNet, affinity: String?) -> IPAMBlockSpec {
        let n = Int(IPAMAddressMath.size(of: cidr))
        return IPAMBlockSpec(cidr: cidr.description, affinity: affinity, strictAffinity: false,
                             allocations: Array(repeating: nil, count: n), unallocated: Array(0..<n),
                             attributes: [], deleted: false, sequenceNumber: 0, sequenceNumberForAllocation: [:])
    }

    public var freeCount: Int { unallocated.count }
    public var isEmpty: Bool { unallocated.count == allocations.count }

    /// Takes up to `count` free ordinals for `attribute` and returns them (fewer when the block
    /// runs out). Identical attributes share one entry.
    public mutating func allocate(_ count: Int, attribute: Attribute) -> [Int] {
        let taken = Array(unallocated.prefix(count))
        guard !taken.isEmpty else { return [] }
        unallocated.removeFirst(taken.count)
        let index: Int
        if let existing = attributes.firstIndex(of: attribute) {
            index = existing
        } else {
            attributes.append(attribute)
            index = attributes.count - 1
        }
        var sequence = sequenceNumberForAllocation ?? [:]
        for o in taken {
            allocations[o] = index
            sequence[String(o)] = sequenceNumber
            sequenceNumber += 1
        }
        sequenceNumberForAllocation = sequence
        return taken
    }

    /// Takes one specific ordinal; false when it is already allocated.
    public mutating func allocate(ordinal: Int, attribute: Attribute) -> Bool {
        guard allocations.indices.contains(ordinal), allocations[ordinal] == nil,
              let at = unallocated.firstIndex(of: ordinal) else { return false }
        unallocated.remove(at: at)
        unallocated.insert(ordinal, at: 0)
        return allocate(1, attribute: attribute) == [ordinal]
    }

    /// The ordinals allocated to `handle`.
    public func ordinals(of handle: String) -> [Int] {
        allocations.indices.filter { o in
            guard let a = allocations[o], attributes.indices.contains(a) else { return false }
            return attributes[a].handleID == handle
        }
    }

    /// Frees every ordinal of `handle`, drops attributes nothing refers to any more, and
    /// returns the freed ordinals.
    @discardableResult
    public mutating func release(handle: String) -> [Int] {
        let freed = ordinals(of: handle)
        guard !freed.isEmpty else { return [] }
        var sequence = sequenceNumberForAllocation ?? [:]
        for o in freed {
            allocations[o] = nil
            unallocated.append(o)
            sequence[String(o)] = nil
        }
        sequenceNumberForAllocation = sequence
        compactAttributes()
        return freed
    }

    /// Removes unreferenced attributes and renumbers the references, as Calico does on release.
    mutating func compactAttributes() {
        let used = Set(allocations.compactMap { $0 })
        var renumber: [Int: Int] = [:]
        var kept: [Attribute] = []
        for (i, a) in attributes.enumerated() where used.contains(i) {
            renumber[i] = kept.count
            kept.append(a)
        }
        attributes = kept
        allocations = allocations.map { $0.flatMap { renumber[$0] } }
    }

    /// The handles holding addresses in this block, with how many each holds.
    public var handleCounts: [String: Int] {
        var out: [String: Int] = [:]
        for a in allocations.compactMap({ $0 }) where attributes.indices.contains(a) {
            if let h = attributes[a].handleID { out[h, default: 0] += 1 }
        }
        return out
    }
}
