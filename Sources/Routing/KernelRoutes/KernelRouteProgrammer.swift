import Core
import Foundation
import Logging

/// The I/O edge of kernel programming: applies `KernelRouteState`'s operations through netlink
/// with protocol 80 (pipelined: a batch of messages per send, acknowledgements read in bulk;
/// libnl-route-3 reads addresses and our routes), one serial queue so that blocking netlink
/// calls never sit on the speaker's event loop or the concurrency pool. Only routes of our protocol are ever
/// replaced or deleted (the kernel matches the protocol on delete; new destinations are added
/// with NLM_F_EXCL, so a foreign route at the same key stays).
public final class KernelRouteProgrammer: @unchecked Sendable {
    private let netlink: Netlink
    private let batch: RouteBatchSocket
    private let queue = DispatchQueue(label: "calico.bgp.kernel-routes")
    private var state: KernelRouteState
    private let logger: Logger
    private var failures = 0
    private var lastFailure: String?

    /// Opens netlink in `namespace` (nil: this process's), reads the interface addresses and
    /// adopts the routes of our protocol already there (kept until `resync`).
    public init(namespace: NetNamespace? = nil, table: UInt32 = RouteTable.main,
                logger: Logger = Logger(label: "calico.bgp.kernel")) throws(KernelError) {
        netlink = try Netlink(in: namespace)
        batch = try RouteBatchSocket(namespace: namespace)
        state = KernelRouteState(planner: KernelRoutePlanner(addresses: try netlink.addresses(), table: table))
        state.adopt(kernel: try netlink.routes(family: nil, table: table, proto: .calicoBGP))
        self.logger = logger
    }

    /// Programs a batch of Loc-RIB changes; returns when the kernel has it.
    public func apply(_ changes: [LocRIBChange]) async {
        await onQueue { self.run(self.state.apply(changes)) }
    }

    /// A new speaker is about to feed its table (see `KernelRouteState.forgetDesired`).
    public func newGeneration() async {
        await onQueue { self.state.forgetDesired() }
    }

    /// Re-reads addresses and our routes and converges the kernel to the desired state,
    /// removing our routes that are no longer wanted (left over from before a restart).
    public func resync() async {
        await onQueue {
            do {
                self.state.planner.addresses = try self.netlink.addresses()
                let kernel = try self.netlink.routes(family: nil, table: self.state.planner.table, proto: .calicoBGP)
                self.run(self.state.resync(kernel: kernel))
            } catch {
                self.note("resync: \(error)")
            }
        }
    }

    /// Routes of ours currently in the kernel (as far as we know).
    public func installedCount() async -> Int { await onQueue { self.state.installedCount } }

    public func installedRoutes() async -> [KernelRoute] { await onQueue { self.state.installedRoutes } }

    /// Failed operations so far and the last one's error, for health and metrics.
    public func failureSummary() async -> (count: Int, last: String?) { await onQueue { (self.failures, self.lastFailure) } }

    private func run(_ ops: [KernelRouteOp]) {
        guard !ops.isEmpty else { return }
        for (op, failure) in zip(ops, batch.perform(ops)) {
            guard let error = failure else {
                state.completed(op, succeeded: true)
                continue
            }
            state.completed(op, succeeded: false, alreadyExists: error.isAlreadyExists, notFound: error.isNotFound)
            if case .add(let r) = op, error.isAlreadyExists {
                logger.warning("not installing \(r.destination): a route we did not install is already there")
            } else if !(error.isNotFound && { if case .delete = op { return true } else { return false } }()) {
                note("\(error)")
            }
        }
    }

    private func note(_ message: String) {
        failures += 1
        lastFailure = message
        logger.warning("kernel routes: \(message)")
    }

    private func onQueue<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { c in queue.async { c.resume(returning: body()) } }
    }
}
