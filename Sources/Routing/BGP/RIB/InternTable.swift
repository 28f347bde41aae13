/// Distinct values under small reference-counted integer ids (from 1; 0 means none), so that a
/// million routes sharing a few attribute sets or next-hop sets hold 4 bytes each instead of a
/// copy or a pointer and a retain count. Freed ids are reused.
struct InternTable<Element: Hashable & Sendable>: Sendable {
    private var elements: [Element?] = [nil]
    private var refs: [Int] = [0]
    private var ids: [Element: UInt32] = [:]
    private var free: [UInt32] = []

    /// Distinct values currently held.
    var count: Int { ids.count }

    subscript(id: UInt32) -> Element { elements[Int(id)]! }

    /// The id of `element` with one more reference (a new id when it is not held yet).
    mutating func retain(_ element: Element) -> UInt32 {
        if let id = ids[element] {
            refs[Int(id)] += 1
            return id
        }
        let id: UInt32
        if let reused = free.popLast() {
            id = reused
            elements[Int(id)] = element
            refs[Int(id)] = 1
        } else {
            id = UInt32(elements.count)
            elements.append(element)
            refs.append(1)
        }
        ids[element] = id
        return id
    }

    mutating func retain(id: UInt32) {
        guard id != 0 else { return }
        refs[Int(id)] += 1
    }

    /// Drops one reference; true when that was the last and the id is free again.
    @discardableResult
    mutating func release(_ id: UInt32) -> Bool {
        guard id != 0 else { return false }
        refs[Int(id)] -= 1
        guard refs[Int(id)] == 0 else { return false }
        ids[elements[Int(id)]!] = nil
        elements[Int(id)] = nil
        free.append(id)
        return true
    }
}
