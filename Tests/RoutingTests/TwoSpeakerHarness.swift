import XCTest
@testable import Routing

/// Two state machines wired back to back through the real codec and framer, with a simulated
/// clock: the way a transport drives them, minus sockets.
struct TwoSpeakerHarness {
    struct Side {
        var fsm: SessionFSM
        var framer = MessageFramer()
        var timers: [SessionTimer: Int] = [:]
        var delivered: [UpdateMessage] = []
        var events: [SessionAction] = []
    }

    var sides: [Side]
    var now = 0
    var connected = false
    /// When false, bytes in flight are lost (a silent link failure).
    var linkUp = true

    init(_ a: SessionConfig, _ b: SessionConfig) {
        sides = [Side(fsm: SessionFSM(config: a)), Side(fsm: SessionFSM(config: b))]
    }

    private enum Work {
        case event(Int, SessionEvent)
        case receive(Int)
    }

    private var queue: [Work] = []
    private var draining = false

    /// Queues an event and runs everything it causes, in order, as an event loop would.
    mutating func handle(_ i: Int, _ event: SessionEvent) {
        queue.append(.event(i, event))
        drain()
    }

    private mutating func drain() {
        guard !draining else { return }
        draining = true
        while !queue.isEmpty {
            switch queue.removeFirst() {
            case .event(let i, let event):
                process(i, event)
            case .receive(let i):
                receive(i)
            }
        }
        draining = false
    }

    private mutating func process(_ i: Int, _ event: SessionEvent) {
        let actions = sides[i].fsm.handle(event)
        sides[i].events += actions
        for action in actions { perform(i, action) }
    }

    private mutating func perform(_ i: Int, _ action: SessionAction) {
        let peer = 1 - i
        switch action {
        case .connect:
            guard !connected, sides[peer].fsm.state == .active || sides[peer].fsm.state == .connect else {
                queue.append(.event(i, .tcpConnectionFails)) // connection refused
                return
            }
            connected = true
            sides[0].framer = MessageFramer(); sides[1].framer = MessageFramer()
            queue.append(.event(i, .tcpConnected(.outbound)))
            queue.append(.event(peer, .tcpConnected(.inbound)))
        case .send(let message):
            guard connected, linkUp else { return }
            sides[peer].framer.append(message.encode(context: sides[i].fsm.wireContext))
            queue.append(.receive(peer))
        case .startTimer(let timer, let seconds):
            sides[i].timers[timer] = now + seconds
        case .stopTimer(let timer):
            sides[i].timers[timer] = nil
        case .closeConnection:
            guard connected else { return }
            connected = false
            if linkUp { queue.append(.event(peer, .tcpConnectionFails)) }
        case .deliver(let update):
            sides[i].delivered.append(update)
        case .established, .down, .routeRefreshRequested:
            break
        }
    }

    private mutating func receive(_ i: Int) {
        sides[i].framer.context = sides[i].fsm.wireContext
        do {
            while let bytes = try sides[i].framer.next() {
                do {
                    process(i, .messageReceived(try BGPMessage.decode(bytes, context: sides[i].fsm.wireContext)))
                } catch {
                    process(i, .decodeError(error))
                }
                // Decode the next message only after this one changed the state (OPEN sets the context).
                queue.append(.receive(i))
                return
            }
        } catch {
            process(i, .decodeError(error))
        }
    }

    /// Fires due timers in deadline order until `seconds` have passed.
    mutating func advance(_ seconds: Int) {
        let end = now + seconds
        while true {
            let due = sides.indices.flatMap { i in sides[i].timers.map { (i, $0.key, $0.value) } }
                .filter { $0.2 <= end }
                .min { ($0.2, $0.0) < ($1.2, $1.0) }
            guard let (i, timer, at) = due else { break }
            now = at
            sides[i].timers[timer] = nil
            handle(i, .timerExpired(timer))
        }
        now = end
    }

    /// Injects raw octets as if the peer of `i` had sent them.
    mutating func inject(into i: Int, _ bytes: [UInt8]) {
        sides[i].framer.append(bytes)
        queue.append(.receive(i))
        drain()
    }
}
