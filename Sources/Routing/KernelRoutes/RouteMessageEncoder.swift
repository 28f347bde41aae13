import Core

/// RTM_NEWROUTE / RTM_DELROUTE messages for kernel route operations, encoded by hand (pure), so
/// that many can go to the kernel in one send and be acknowledged in bulk (see
/// `RouteBatchSocket`). Integers are in host order as netlink wants; addresses in network order.
/// The encoding follows what libnl's rtnl_route_build_*_request produces for the same route.
enum RouteMessageEncoder {
    static let newRoute: UInt16 = 24       // RTM_NEWROUTE
    static let deleteRoute: UInt16 = 25    // RTM_DELROUTE
    static let request: UInt16 = 0x01      // NLM_F_REQUEST
    static let ack: UInt16 = 0x04          // NLM_F_ACK
    static let replace: UInt16 = 0x100     // NLM_F_REPLACE
    static let exclusive: UInt16 = 0x200   // NLM_F_EXCL
    static let create: UInt16 = 0x400      // NLM_F_CREATE
    static let errorType: UInt16 = 2       // NLMSG_ERROR
    static let onLinkFlag: UInt8 = 4       // RTNH_F_ONLINK

    enum Attribute: UInt16 {
        case destination = 1, outputInterface = 4, gateway = 5, priority = 6, preferredSource = 7, multipath = 9, table = 15
    }

    /// Appends one message for `op` with sequence number `seq`.
    static func encode(_ op: KernelRouteOp, seq: UInt32, into buf: inout [UInt8]) {
        let start = buf.count
        let route: KernelRoute
        let type: UInt16, flags: UInt16
        switch op {
        case .add(let r): (route, type, flags) = (r, newRoute, request | ack | create | exclusive)
        case .replace(let r): (route, type, flags) = (r, newRoute, request | ack | create | replace)
        case .delete(let r): (route, type, flags) = (r, deleteRoute, request | ack)
        }
        let deleting = type == deleteRoute
        // nlmsghdr; the length is patched at the end.
        put(UInt32(0), &buf); put(type, &buf); put(flags, &buf); put(seq, &buf); put(UInt32(0), &buf)
        // rtmsg
        let hops = deleting ? [] : route.nextHops
        buf.append(route.family == .ipv4 ? 2 : 10) // AF_INET / AF_INET6
        buf.append(UInt8(route.destination.length))
        buf.append(0) // src_len
        buf.append(0) // tos
        buf.append(route.table < 256 ? UInt8(route.table) : 0)
        buf.append(route.proto.rawValue)
        buf.append(deleting ? RouteScope.nowhere.rawValue : route.scope.rawValue) // nowhere: any scope
        buf.append(route.type.rawValue)
        put(UInt32(hops.count == 1 && hops[0].onLink ? UInt32(onLinkFlag) : 0), &buf)

        if route.destination.length > 0 { attribute(.destination, route.destination.address.bytes, &buf) }
        attribute(.table, bytes(route.table), &buf)
        if route.metric != 0 { attribute(.priority, bytes(route.metric), &buf) }
        if let src = route.preferredSource { attribute(.preferredSource, src.bytes, &buf) }
        if hops.count == 1 {
            if let g = hops[0].gateway { attribute(.gateway, g.bytes, &buf) }
            if let i = hops[0].linkIndex { attribute(.outputInterface, bytes(UInt32(bitPattern: i)), &buf) }
        } else if hops.count > 1 {
            var nested: [UInt8] = []
            for hop in hops {
                let gateway: [UInt8] = hop.gateway.map { attributeBytes(.gateway, $0.bytes) } ?? []
                put(UInt16(8 + gateway.count), &nested) // rtnexthop.rtnh_len
                nested.append(hop.onLink ? onLinkFlag : 0)
                nested.append(UInt8(clamping: max(0, hop.weight - 1))) // rtnh_hops is weight - 1
                put(hop.linkIndex ?? 0, &nested)
                nested += gateway
            }
            attribute(.multipath, nested, &buf)
        }
        let length = UInt32(buf.count - start)
        withUnsafeBytes(of: length) { for (i, b) in $0.enumerated() { buf[start + i] = b } }
    }

    /// The outcome of one acknowledgement in `bytes` at `offset`: (sequence, errno or 0, length),
    /// or nil when it is not a complete NLMSG_ERROR message.
    static func acknowledgement(in bytes: UnsafeRawBufferPointer, at offset: Int) -> (seq: UInt32, error: Int32, length: Int)? {
        guard bytes.count - offset >= 16 else { return nil }
        let length = Int(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        guard length >= 16, offset + length <= bytes.count else { return nil }
        let type = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)
        let seq = bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
        let aligned = (length + 3) & ~3
        guard type == errorType, length >= 20 else { return (seq, 0, aligned) }
        return (seq, -bytes.loadUnaligned(fromByteOffset: offset + 16, as: Int32.self), aligned)
    }

    private static func put<T: FixedWidthInteger>(_ v: T, _ buf: inout [UInt8]) {
        withUnsafeBytes(of: v) { buf.append(contentsOf: $0) }
    }

    private static func bytes<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v) { Array($0) } }

    private static func attributeBytes(_ type: Attribute, _ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        attribute(type, data, &out)
        return out
    }

    private static func attribute(_ type: Attribute, _ data: [UInt8], _ buf: inout [UInt8]) {
        put(UInt16(4 + data.count), &buf)
        put(type.rawValue, &buf)
        buf += data
        while buf.count % 4 != 0 { buf.append(0) }
    }
}
