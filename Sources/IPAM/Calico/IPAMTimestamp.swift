import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The UTC timestamps IPAM records (`2026-11-26T11:30:05Z`, what ISO8601DateFormatter's default
/// options write), made without a formatter object: making one per allocation cost the agent
/// ~5% of its CPU for each assignment it serves.
enum IPAMTimestamp {
    static func string(from date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var t = tm()
        gmtime_r(&seconds, &t)
        return "\(digits(Int(t.tm_year) + 1900, 4))-\(digits(Int(t.tm_mon) + 1, 2))-\(digits(Int(t.tm_mday), 2))"
            + "T\(digits(Int(t.tm_hour), 2)):\(digits(Int(t.tm_min), 2)):\(digits(Int(t.tm_sec), 2))Z"
    }

    private static func digits(_ value: Int, _ width: Int) -> String {
        let s = String(value)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
