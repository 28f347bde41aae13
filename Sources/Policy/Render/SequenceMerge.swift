/// Merges per-member ordered lists (each endpoint's tiers, policies or profiles) into one
/// sequence of slots in which every member's list appears in order, so one shared chain can run
/// every endpoint's list. When the lists agree on a common order (Calico's order and name
/// always do) each key gets exactly one slot; otherwise a key gets a slot per conflicting place.
enum SequenceMerge {
    struct Slot<Key: Hashable & Comparable>: Equatable {
        var key: Key
        /// How many earlier slots have the same key.
        var occurrence: Int
        /// Each member in this slot and the position in its own list this slot stands for.
        var members: [(member: String, position: Int)]

        static func == (a: Slot, b: Slot) -> Bool {
            a.key == b.key && a.occurrence == b.occurrence && a.members.elementsEqual(b.members) { $0 == $1 }
        }
    }

    /// Greedy: among the keys at the head of some list, take the smallest one that is not
    /// waiting further down any list; if every head is waiting (the lists disagree), the
    /// smallest head.
    static func merge<Key: Hashable & Comparable>(_ lists: [(member: String, keys: [Key])]) -> [Slot<Key>] {
        var position = [Int](repeating: 0, count: lists.count)
        var waiting: [Key: Int] = [:]
        var heads: [Key: [Int]] = [:]
        for (i, list) in lists.enumerated() {
            for key in list.keys.dropFirst() { waiting[key, default: 0] += 1 }
            if let first = list.keys.first { heads[first, default: []].append(i) }
        }
        var slots: [Slot<Key>] = []
        var seen: [Key: Int] = [:]
        while !heads.isEmpty {
            let key = heads.keys.filter { (waiting[$0] ?? 0) == 0 }.min() ?? heads.keys.min()!
            let indices = heads.removeValue(forKey: key)!.sorted()
            var slot = Slot(key: key, occurrence: seen[key, default: 0], members: [])
            seen[key, default: 0] += 1
            for i in indices {
                slot.members.append((lists[i].member, position[i]))
                position[i] += 1
                if position[i] < lists[i].keys.count {
                    let next = lists[i].keys[position[i]]
                    waiting[next, default: 0] -= 1
                    heads[next, default: []].append(i)
                }
            }
            slots.append(slot)
        }
        return slots
    }
}
