#if canImport(Glibc)
import Glibc
#endif
import CCalicoSystem
import Synchronization

/// An interface appearing, changing (rename, up/down, MTU) or going away.
public struct LinkEvent: Sendable, Hashable {
    public enum Kind: Sendable, Hashable { case added, changed, removed }
    public var kind: Kind
    public var link: Link

    public init(_ kind: Kind, _ link: Link) {
        self.kind = kind
        self.link = link
    }
}

/// Link change notifications: a netlink socket subscribed to RTNLGRP_LINK, read on a thread of its
/// own, delivered as an AsyncStream. If the kernel drops notifications (ENOBUFS) the monitor
/// re-lists the links and reports the difference, so a consumer never misses an add or remove.
/// The thread and socket live until `stop()`, the consumer's task is cancelled, or the monitor
/// is released.
public final class LinkMonitor: Sendable {
    /// Events in kernel order; finishes when the monitor stops.
    public let events: AsyncStream<LinkEvent>
    private let stopper: Stopper

    /// Starts watching links in `namespace` (nil: this process's). With `includeExisting` the
    /// stream starts with an `.added` for every link already there.
    public init(in namespace: NetNamespace? = nil, includeExisting: Bool = false) throws(KernelError) {
        let socketFD: Int32
        if let namespace {
            var r: Result<Int32, KernelError> = .failure(.invalid("watch links", "not run"))
            do { try namespace.run { r = Result { () throws(KernelError) in try LinkMonitor.subscribe() } } } catch {
                throw .invalid("watch links in \(namespace)", "\(error)")
            }
            socketFD = try r.get()
        } else {
            socketFD = try LinkMonitor.subscribe()
        }
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else {
            close(socketFD)
            throw .system("watch links: pipe")
        }
        for fd in pipeFDs {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        }
        let initial: [Link]
        do { initial = try Netlink(in: namespace).links() } catch {
            close(socketFD); close(pipeFDs[0]); close(pipeFDs[1])
            throw error
        }
        let (stream, continuation) = AsyncStream.makeStream(of: LinkEvent.self, bufferingPolicy: .unbounded)
        let stopper = Stopper(writeFD: pipeFDs[1])
        continuation.onTermination = { _ in stopper.stop() }
        if includeExisting { for l in initial { continuation.yield(LinkEvent(.added, l)) } }
        let reader = Reader(socketFD: socketFD, stopFD: pipeFDs[0], namespace: namespace,
                            known: Dictionary(initial.map { ($0.index, $0) }, uniquingKeysWith: { $1 }),
                            continuation: continuation)
        do { try DedicatedThread.detach { reader.run() } } catch {
            continuation.finish()
            close(socketFD); close(pipeFDs[0])
            throw error
        }
        self.events = stream
        self.stopper = stopper
    }

    /// Stops the reader thread; `events` then finishes. Idempotent.
    public func stop() { stopper.stop() }

    deinit { stopper.stop() }

    /// A raw NETLINK_ROUTE socket bound to the link multicast group.
    static func subscribe() throws(KernelError) -> Int32 {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), NETLINK_ROUTE)
        guard fd >= 0 else { throw .system("watch links: socket") }
        var size: Int32 = 1 << 20
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_nl()
        addr.nl_family = sa_family_t(AF_NETLINK)
        addr.nl_groups = 1  // RTMGRP_LINK
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_nl>.size)) }
        }
        guard rc == 0 else {
            let e = KernelError.system("watch links: bind RTNLGRP_LINK")
            close(fd)
            throw e
        }
        return fd
    }

    /// Signals the reader thread to end, once.
    private final class Stopper: Sendable {
        private let writeFD: Mutex<Int32?>
        init(writeFD: Int32) { self.writeFD = Mutex(writeFD) }
        func stop() {
            writeFD.withLock { fd in
                guard let open = fd else { return }
                var b: UInt8 = 1
                _ = write(open, &b, 1)
                close(open)
                fd = nil
            }
        }
    }

    /// The thread's state; touched only by that thread.
    private final class Reader: @unchecked Sendable {
        let socketFD: Int32
        let stopFD: Int32
        let namespace: NetNamespace?
        var known: [Int32: Link]
        let continuation: AsyncStream<LinkEvent>.Continuation

        init(socketFD: Int32, stopFD: Int32, namespace: NetNamespace?, known: [Int32: Link],
             continuation: AsyncStream<LinkEvent>.Continuation) {
            self.socketFD = socketFD
            self.stopFD = stopFD
            self.namespace = namespace
            self.known = known
            self.continuation = continuation
        }

        func run() {
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            loop: while true {
                var fds = [pollfd(fd: socketFD, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: stopFD, events: Int16(POLLIN), revents: 0)]
                let ready = poll(&fds, 2, -1)
                if ready < 0 { if errno == EINTR { continue } else { break } }
                if fds[1].revents != 0 { break }
                let n = buffer.withUnsafeMutableBytes { recv(socketFD, $0.baseAddress, $0.count, 0) }
                if n < 0 {
                    switch errno {
                    case EINTR, EAGAIN: continue loop
                    case ENOBUFS: resync()
                    default: break loop
                    }
                    continue
                }
                for (change, link) in LinkMessageParser.parse(Array(buffer[..<n])) { handle(change, link) }
            }
            continuation.finish()  // runs onTermination (writes the pipe) before we close its read end
            close(stopFD)
            close(socketFD)
        }

        private func handle(_ change: LinkMessageParser.Change, _ link: Link) {
            switch change {
            case .removed:
                known[link.index] = nil
                continuation.yield(LinkEvent(.removed, link))
            case .newOrChanged:
                let kind: LinkEvent.Kind = known[link.index] == nil ? .added : .changed
                known[link.index] = link
                continuation.yield(LinkEvent(kind, link))
            }
        }

        /// Notifications were lost: compare a fresh listing with what we knew.
        private func resync() {
            guard let now = try? Netlink(in: namespace).links() else { return }
            let current = Dictionary(now.map { ($0.index, $0) }, uniquingKeysWith: { $1 })
            for (index, old) in known where current[index] == nil { handle(.removed, old) }
            for link in now where known[link.index] != link { handle(.newOrChanged, link) }
        }
    }
}
