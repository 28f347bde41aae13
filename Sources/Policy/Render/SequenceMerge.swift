import Core

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
    /// smallest head. Keys are replaced by their rank among the distinct keys first (one hash
    /// per element; the rest is arrays and integer comparisons), and the ready heads sit in a
    /// min-heap (a key becomes ready only when it becomes a head, and stays ready until taken),
    /// so a merge costs O(n log n) in the total length of the lists, not a scan of every head
    /// per slot.
    @_specialize(where Key == String)
    static func merge<Key: Hashable & Comparable>(_ lists: [(member: String, keys: [Key])]) -> [Slot<Key>] {
        merge(lists, by: <)
    }

    /// `merge` with the keys ranked by `areInIncreasingOrder` (a strict total order) instead of
    /// `<`. When every list is increasing in that order the slots are the distinct keys in that
    /// order, one each, whatever the memberships: a member's list changing then moves it between
    /// slots and changes no slot.
    @_specialize(where Key == String)
    @_specialize(where Key == PolicyKey)
    static func merge<Key: Hashable & Comparable>(_ lists: [(member: String, keys: [Key])],
                                                  by areInIncreasingOrder: (Key, Key) -> Bool) -> [Slot<Key>] {
        var interned: [Key: Int] = [:]
        var distinct: [Key] = []
        var ids: [[Int]] = lists.map { list in
            list.keys.map { key in
                if let id = interned[key] { return id }
                distinct.append(key)
                interned[key] = distinct.count - 1
                return distinct.count - 1
            }
        }
        // Rank = position among the sorted distinct keys: comparing ranks is comparing keys.
        let sorted = distinct.indices.sorted { areInIncreasingOrder(distinct[$0], distinct[$1]) }
        var rank = [Int](repeating: 0, count: distinct.count)
        for (r, id) in sorted.enumerated() { rank[id] = r }
        for i in ids.indices { for j in ids[i].indices { ids[i][j] = rank[ids[i][j]] } }
        let keys = sorted.map { distinct[$0] }

        var position = [Int](repeating: 0, count: lists.count)
        var waiting = [Int](repeating: 0, count: keys.count)
        var heads = [[Int]](repeating: [], count: keys.count)
        var headCount = 0
        var ready = MinHeap<Int>()
        for list in ids { for key in list.dropFirst() { waiting[key] += 1 } }
        func becomeHead(_ key: Int, _ list: Int) {
            if heads[key].isEmpty { headCount += 1 }
            heads[key].append(list)
            if waiting[key] == 0 { ready.push(key) }
        }
        for (i, list) in ids.enumerated() { if let first = list.first { becomeHead(first, i) } }
        var slots: [Slot<Key>] = []
        var seen = [Int](repeating: 0, count: keys.count)
        while headCount > 0 {
            var chosen: Int?
            while let top = ready.pop() {
                // Entries go stale when their key was taken; a key in `ready` never waits again.
                if !heads[top].isEmpty { chosen = top; break }
            }
            let key = chosen ?? heads.indices.first { !heads[$0].isEmpty }!
            let indices = heads[key].sorted()
            heads[key] = []
            headCount -= 1
            var slot = Slot(key: keys[key], occurrence: seen[key], members: [])
            seen[key] += 1
            slot.members.reserveCapacity(indices.count)
            for i in indices {
                slot.members.append((lists[i].member, position[i]))
                position[i] += 1
                if position[i] < ids[i].count {
                    let next = ids[i][position[i]]
                    waiting[next] -= 1
                    becomeHead(next, i)
                }
            }
            slots.append(slot)
        }
        return slots
    }
}

/// A binary min-heap: the ready keys of a merge.
struct MinHeap<Element: Comparable> {
    private var items: [Element] = []

    mutating func push(_ element: Element) {
        items.append(element)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count, items[left] < items[smallest] { smallest = left }
            if right < items.count, items[right] < items[smallest] { smallest = right }
            guard smallest != parent else { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
