// Times adding, listing and deleting N routes through Core/Kernel (libnl) in namespace NS.
// Usage: netlink-routes NS N  (NS must have dev ktb0 up with 10.255.0.1/24; see netlink-routes.sh)
// Prints `add_ms=… list_ms=… del_ms=… listed=…`.
import Foundation

@main
enum NetlinkRoutesBench {
    static func main() throws {
        let args = CommandLine.arguments
        guard args.count == 3, let count = Int(args[2]), count > 0, count <= 65_536 else {
            FileHandle.standardError.write(Data("usage: netlink-routes NAMESPACE COUNT(1-65536)\n".utf8))
            exit(2)
        }
        let nl = try Netlink(in: .named(args[1]))
        let dev = try nl.linkIndex("ktb0")
        let gateway = InetAddress("10.255.0.2")!
        let routes = (0..<count).map { i in
            KernelRoute(destination: .host(InetAddress(bytes: [10, 100, UInt8(i >> 8), UInt8(i & 0xFF)])!),
                        nextHops: [NextHop(gateway: gateway, linkIndex: dev)], proto: .calicoBGP)
        }
        let add = try time { for r in routes { try nl.addRoute(r) } }
        var listed = 0
        let list = try time { listed = try nl.listRoutes(proto: .calicoBGP).count }
        let del = try time { for r in routes { try nl.deleteRoute(r) } }
        print(String(format: "add_ms=%.1f list_ms=%.1f del_ms=%.1f listed=%d", add, list, del, listed))
    }

    static func time(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    }
}
