/// An open-addressing hash table from packed prefixes to a small value, over two flat arrays
/// (linear probing, backward-shift deletion, no tombstones, load at most 0.8). A million IPv4
/// entries with a 32-bit value take 12 bytes a slot, against 60-90 for a Swift Dictionary of
/// route structs: no per-entry object, no per-entry array.
struct CompactPrefixTable<Key: PackedPrefix, Value: Sendable>: Sendable {
    private(set) var keys: [Key] = []
    private(set) var values: [Value] = []
    private(set) var count = 0
    private let placeholder: Value
    private var shift = 64

    /// `placeholder` fills empty slots (never returned).
    init(placeholder: Value) { self.placeholder = placeholder }

    var capacity: Int { keys.count }
    var isEmpty: Bool { count == 0 }

    private func home(_ key: Key) -> Int { Int(truncatingIfNeeded: key.mixed >> UInt64(shift)) }

    /// The slot holding `key`, if any.
    func slot(of key: Key) -> Int? {
        guard count > 0 else { return nil }
        let mask = keys.count - 1
        var i = home(key)
        while true {
            let k = keys[i]
            if k == key { return i }
            if k == Key.empty { return nil }
            i = (i + 1) & mask
        }
    }

    subscript(key: Key) -> Value? {
        get { slot(of: key).map { values[$0] } }
        set {
            if let newValue {
                let (i, _) = insert(key, newValue)
                values[i] = newValue
            } else if let i = slot(of: key) {
                remove(at: i)
            }
        }
    }

    /// The slot of `key`, inserting it with `value` when absent (`inserted` says which).
    @discardableResult
    mutating func insert(_ key: Key, _ value: Value) -> (slot: Int, inserted: Bool) {
        precondition(key != Key.empty, "the empty marker is not a key")
        if let i = slot(of: key) { return (i, false) }
        if (count + 1) * 5 > keys.count * 4 { grow() }
        let mask = keys.count - 1
        var i = home(key)
        while keys[i] != Key.empty { i = (i + 1) & mask }
        keys[i] = key
        values[i] = value
        count += 1
        return (i, true)
    }

    /// Removes the entry at `slot`, shifting back the entries that probed past it.
    mutating func remove(at slot: Int) {
        let mask = keys.count - 1
        var hole = slot
        var j = slot
        while true {
            j = (j + 1) & mask
            let k = keys[j]
            if k == Key.empty { break }
            let h = home(k)
            // Move k into the hole unless its home lies cyclically in (hole, j].
            let inRange = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j)
            if !inRange {
                keys[hole] = k
                values[hole] = values[j]
                hole = j
            }
        }
        keys[hole] = Key.empty
        values[hole] = placeholder
        count -= 1
        if count == 0 { keys = []; values = []; shift = 64 } // give the memory back
    }

    /// Every entry, in slot order.
    func forEach(_ body: (Key, Value) -> Void) {
        for i in keys.indices where keys[i] != Key.empty { body(keys[i], values[i]) }
    }

    private mutating func grow() {
        let newCapacity = max(16, keys.count * 2)
        let oldKeys = keys, oldValues = values
        // Release the old arrays' storage from self before allocating the new ones.
        keys = []
        values = []
        keys = [Key](repeating: Key.empty, count: newCapacity)
        values = [Value](repeating: placeholder, count: newCapacity)
        shift = 64 - newCapacity.trailingZeroBitCount
        count = 0
        let mask = newCapacity - 1
        for (i, k) in oldKeys.enumerated() where k != Key.empty {
            var j = home(k)
            while keys[j] != Key.empty { j = (j + 1) & mask }
            keys[j] = k
            values[j] = oldValues[i]
            count += 1
        }
    }
}
