import Core
import Foundation

/// The store's objects on disk: `D/state.jsonl`, a header line `{"resourceVersion":N}` then one
/// `{"kind":"pods.core","object":{...}}` line per object. Written atomically (temp file, then
/// rename), at most once per `delay` after a change; loaded at start.
final class Persistence: @unchecked Sendable {
    let path: String
    private let delay: TimeInterval
    private let queue = DispatchQueue(label: "devcluster.persistence")
    private let lock = NSLock()
    private var scheduled = false
    /// How long the last save took; the next save waits at least 4x that, so saving a large
    /// state never takes more than a fifth of one core while writes keep coming.
    private var lastSaveSeconds: TimeInterval = 0
    private weak var store: SharedStore?
    /// The last write error, reported once per failure streak.
    private var lastError: String?
    var onError: (@Sendable (String) -> Void)?

    init(dataDir: String, delay: TimeInterval = 0.2) {
        path = dataDir + "/state.jsonl"
        self.delay = delay
    }

    struct LoadError: Error, CustomStringConvertible {
        var description: String
    }

    /// The saved state, or nil if there is none yet.
    static func load(path: String, historyCapacity: Int) throws -> Store? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let bytes = [UInt8](data)
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).makeIterator()
        guard let headerLine = lines.next(), let header = try? JSONWire.parse(headerLine),
              let rv = header["resourceVersion"]?.intValue, rv >= 0 else {
            throw LoadError(description: "\(path): missing or bad header line; move the file away to start empty")
        }
        let kinds = Dictionary(uniqueKeysWithValues: ResourceKind.all.map { ($0.description, $0) })
        var objects: [ResourceKind: [ObjectName: StoredObject]] = [:]
        var lineNumber = 1
        while let line = lines.next() {
            lineNumber += 1
            guard let entry = try? JSONWire.parse(line), let kindName = entry["kind"]?.stringValue,
                  let kind = kinds[kindName], let object = entry["object"] else {
                throw LoadError(description: "\(path):\(lineNumber): unreadable entry; move the file away to start empty")
            }
            let name = ObjectName(namespace: kind.namespaced ? object.metaNamespace : "", name: object.metaName)
            let objectRV = UInt64(object.metaResourceVersion) ?? UInt64(rv)
            objects[kind, default: [:]][name] = StoredObject(object, resourceVersion: objectRV)
        }
        return Store(loaded: objects, resourceVersion: UInt64(rv), historyCapacity: historyCapacity)
    }

    /// Saves after every change to `store`, debounced.
    func attach(to store: SharedStore) {
        self.store = store
        store.onChange { [weak self] in self?.markDirty() }
    }

    func markDirty() {
        let schedule: Bool = lock.withLock {
            if scheduled { return false }
            scheduled = true
            return true
        }
        guard schedule else { return }
        let wait = max(delay, 4 * lock.withLock { lastSaveSeconds })
        queue.asyncAfter(deadline: .now() + wait) { [weak self] in
            guard let self else { return }
            self.lock.withLock { self.scheduled = false }
            self.saveNow()
        }
    }

    /// Writes the current state synchronously (also used at shutdown).
    func flush() {
        queue.sync { saveNow() }
    }

    private func saveNow() {
        guard let store else { return }
        let snapshot = store.snapshot
        let started = Date()
        defer { let took = Date().timeIntervalSince(started); lock.withLock { lastSaveSeconds = took } }
        do {
            try Self.write(snapshot, to: path)
            lastError = nil
        } catch {
            let message = "cannot save state to \(path): \(error)"
            if lastError != message { onError?(message) }
            lastError = message
        }
    }

    static func encode(_ store: Store) -> [UInt8] {
        var out: [UInt8] = []
        JSONWire.write(.object(["resourceVersion": .int(Int64(store.resourceVersion))]), to: &out)
        out.append(UInt8(ascii: "\n"))
        for kind in ResourceKind.all {
            guard let objects = store.objects[kind] else { continue }
            let prefix = Array("{\"kind\":\"\(kind.description)\",\"object\":".utf8)
            for key in objects.keys.sorted() {
                out += prefix
                out += objects[key]!.json
                out += Array("}\n".utf8)
            }
        }
        return out
    }

    static func write(_ store: Store, to path: String) throws {
        let tmp = path + ".tmp"
        let bytes = encode(store)
        guard FileManager.default.createFile(atPath: tmp, contents: Data(bytes), attributes: [.posixPermissions: 0o600]) else {
            throw LoadError(description: "cannot create \(tmp)")
        }
        guard rename(tmp, path) == 0 else { throw LoadError(description: "cannot rename \(tmp) to \(path): errno \(errno)") }
    }
}
