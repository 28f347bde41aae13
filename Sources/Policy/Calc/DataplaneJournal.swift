import Core

/// The keys of a `DataplaneState` that a change may have touched: local endpoints by interface
/// name, policies, profiles, IP sets, and whether the configuration changed. A superset is fine
/// (a reader compares values); a key missing is not.
struct DataplaneChanges: Sendable {
    var endpoints: Set<String> = []
    var policies: Set<PolicyKey> = []
    var profiles: Set<String> = []
    var ipSets: Set<IPSetID> = []
    /// The addresses (selector sets) and address-port members (named-port sets) that came into
    /// or left each of `ipSets`, all of them: a reader may edit the set by these instead of
    /// comparing it whole. Not for the sets in `wholeSets` (made or dropped since).
    var netDeltas: [IPSetID: MemberDelta<IPNet>] = [:]
    var portDeltas: [IPSetID: MemberDelta<IPPortMember>] = [:]
    var wholeSets: Set<IPSetID> = []
    var config = false

    mutating func formUnion(_ other: DataplaneChanges) {
        endpoints.formUnion(other.endpoints)
        policies.formUnion(other.policies)
        profiles.formUnion(other.profiles)
        ipSets.formUnion(other.ipSets)
        for (id, delta) in other.netDeltas { netDeltas[id, default: MemberDelta()].append(delta) }
        for (id, delta) in other.portDeltas { portDeltas[id, default: MemberDelta()].append(delta) }
        wholeSets.formUnion(other.wholeSets)
        config = config || other.config
    }
}

/// What the calculator changed in its state, one entry per `apply` that changed something,
/// each under a random revision id. A renderer that remembers the id of the last revision it
/// rendered reads only the keys changed since, instead of comparing every policy, profile, set
/// and endpoint of two states (and without holding the previous state, whose dictionaries the
/// calculator would then copy whole on its next write).
///
/// Ids are random, not counted, so two copies of one calculator that went separate ways never
/// pass for each other: a revision of one is not in the other's journal. States made any other
/// way (`init`, `compute`) have an empty journal and are compared in full.
struct DataplaneJournal: Sendable {
    struct Entry: Sendable {
        var id: UInt64
        var changes: DataplaneChanges
    }

    private(set) var entries: [Entry] = []
    /// Whether the last entry belongs to the `apply` in progress.
    private var open = false
    /// Entries kept; a renderer further behind compares in full.
    static let limit = 256

    /// The id of the latest revision (nil: no change recorded).
    var latest: UInt64? { entries.last?.id }

    /// Ends the current revision: the next recorded change starts a new one.
    mutating func close() { open = false }

    mutating func record(_ body: (inout DataplaneChanges) -> Void) {
        if !open {
            if entries.count >= 2 * Self.limit { entries.removeFirst(entries.count - Self.limit) }
            entries.append(Entry(id: UInt64.random(in: 1...UInt64.max), changes: DataplaneChanges()))
            open = true
        }
        body(&entries[entries.count - 1].changes)
    }

    /// Every key changed after revision `id`, or nil when `id` is not in this journal.
    func changes(since id: UInt64) -> DataplaneChanges? {
        guard let index = entries.lastIndex(where: { $0.id == id }) else { return nil }
        var out = DataplaneChanges()
        for entry in entries[(index + 1)...] { out.formUnion(entry.changes) }
        return out
    }
}
