/// glibc malloc settings for a process that holds large tables: each thread that allocates may
/// get its own arena (up to 8 per CPU), and memory freed in one is not reused by another; and
/// after a large block is freed the dynamic mmap threshold rises, so the next table growth comes
/// from the heap and its freed predecessor stays in RSS. Two arenas and a fixed 128 KiB mmap
/// threshold make big arrays (RIB and kernel tables, their rehashes) go straight back to the
/// system when freed. Applied once per process when the first BGP speaker starts.
enum MemoryTuning {
    static func applyOnce() { _ = applied }

    private static let applied: Bool = {
        #if os(Linux)
        // <malloc.h> is not part of Swift's Glibc module; the values are glibc's ABI.
        let arenaMax: Int32 = -8, mmapThreshold: Int32 = -3
        _ = glibcMallopt(arenaMax, 2)
        _ = glibcMallopt(mmapThreshold, 128 * 1024)
        #endif
        return true
    }()
}

#if os(Linux)
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
