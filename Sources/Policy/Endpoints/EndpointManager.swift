import Core
import Foundation
import Logging

/// Keeps the kernel side of local workloads converged: the host routes to each workload (only
/// routes of felix's own protocol are ever changed or deleted, so routes others installed
/// survive) and the interface sysctls (proxy ARP and friends), written again whenever an
/// interface appears or is re-created with a new index.
public final class EndpointManager: @unchecked Sendable {
    public struct SyncResult: Sendable, Equatable {
        public var routesReplaced = 0
        public var routesDeleted = 0
        public var interfacesConfigured = 0
        public var missingInterfaces: [String] = []
        public var errors: [String] = []
    }

    private let netlink: Netlink
    private let namespace: NetNamespace?
    private let proto: RouteProtocol
    private let ipv6: Bool
    private let logger: Logger
    private let lock = NSLock()
    private var endpoints: [LocalEndpoint] = []
    /// Interface name -> index whose sysctls were written.
    private var configured: [String: Int32] = [:]

    public init(namespace: NetNamespace? = nil, proto: RouteProtocol = .calicoFelix, ipv6: Bool = true,
                logger: Logger = Logger(label: "calico.felix.endpoints")) throws {
        netlink = try Netlink(in: namespace)
        self.namespace = namespace
        self.proto = proto
        self.ipv6 = ipv6
        self.logger = logger
    }

    /// Sets the desired endpoints and converges the kernel to them.
    @discardableResult
    public func sync(_ desired: [LocalEndpoint]) -> SyncResult {
        lock.withLock {
            endpoints = desired
            return syncLocked()
        }
    }

    /// Converges again with the endpoints last given (after a link event or on a timer).
    @discardableResult
    public func resync() -> SyncResult {
        lock.withLock { syncLocked() }
    }

    private func syncLocked() -> SyncResult {
        var result = SyncResult()
        let links: [String: Link]
        do {
            links = Dictionary(try netlink.links().map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        } catch {
            result.errors.append("list interfaces: \(error)")
            return result
        }
        for e in endpoints {
            guard let link = links[e.interfaceName] else {
                result.missingInterfaces.append(e.interfaceName)
                continue
            }
            guard configured[e.interfaceName] != link.index else { continue }
            let wantsV6 = ipv6 && e.addresses.contains(where: \.isIPv6)
            let settings = Sysctl.calicoHostVeth(e.interfaceName, ipv4: true, ipv6: wantsV6)
            let failures = writeSysctls(settings)
            if failures.isEmpty {
                configured[e.interfaceName] = link.index
                result.interfacesConfigured += 1
            } else {
                result.errors += failures.map { "\(e.interfaceName): \($0)" }
            }
        }
        let live = Set(endpoints.map(\.interfaceName))
        configured = configured.filter { live.contains($0.key) && links[$0.key]?.index == $0.value }

        // The kernel refuses routes through a link that is down; its "up" event brings them.
        let routes = EndpointRoutePlan.routes(endpoints, linkIndex: { name in links[name].flatMap { $0.isUp ? $0.index : nil } }, proto: proto)
        do {
            let r = try netlink.syncRoutes(routes, proto: proto)
            result.routesReplaced = r.replaced
            result.routesDeleted = r.deleted
            result.errors += r.failures.map { "\($0)" }
        } catch {
            result.errors.append("sync routes: \(error)")
        }
        for message in result.errors { logger.warning("\(message)") }
        return result
    }

    /// Sysctls live per network namespace of the writing thread: write them inside ours.
    private func writeSysctls(_ settings: [SysctlSetting]) -> [String] {
        guard let namespace else { return Sysctl.apply(settings).map { "\($0)" } }
        do {
            return try namespace.run { Sysctl.apply(settings).map { "\($0)" } }
        } catch {
            return ["enter \(namespace): \(error)"]
        }
    }
}
