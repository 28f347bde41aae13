#if canImport(Glibc)
import Glibc
#endif

/// Where one `NFTProgrammer.apply` spent its time, and how much it read back: for felix's
/// metrics and bench/felix.sh's per-phase split.
public struct NFTApplyStats: Sendable, Hashable {
    /// Reading the kernel's state: the whole table on a first apply, else chains read back.
    public var readNs: UInt64 = 0
    /// Computing the plan (NFTDiff), both passes when a second was needed.
    public var diffNs: UInt64 = 0
    /// Writing the plan as netlink messages.
    public var encodeNs: UInt64 = 0
    /// Sending the batch and receiving the kernel's answers (its commit included).
    public var commitNs: UInt64 = 0
    /// Bringing the programmed state up to date after the commit.
    public var updateNs: UInt64 = 0
    /// Chains whose rules were dumped from the kernel (0 when nothing was read back).
    public var chainsRead = 0
    /// Added rules whose handle came from the kernel's echo.
    public var rulesEchoed = 0
    /// Chains left to be read when next diffed (added rules not echoed).
    public var chainsLeftUnread = 0

    public init() {}

    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
