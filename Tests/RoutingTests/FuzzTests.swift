import XCTest
@testable import Routing

/// Seeded random mutations of valid messages: every input must decode or throw a typed
/// NOTIFICATION; none may crash. The seed is fixed so a failure reproduces.
final class FuzzTests: XCTestCase {
    /// xorshift64* (Vigna): tiny, fast and reproducible across platforms.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
        mutating func next() -> UInt64 {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return state &* 0x2545_F491_4F6C_DD1D
        }
    }

    var corpus: [[UInt8]] {
        let gr = GracefulRestartCapability(restartTime: 120, families: [.init(.ipv4Unicast, forwardingPreserved: true)])
        let attrs = PathAttributes(origin: .igp, asPath: ASPath([.init(.sequence, [65001, 4_200_000_001]), .init(.set, [1, 2])]),
                                   nextHop: ip("10.0.0.1"), multiExitDisc: 5, localPref: 100, atomicAggregate: true,
                                   aggregator: Aggregator(asn: 4_200_000_001, address: 1), communities: [1, 2],
                                   originatorID: 9, clusterList: [7], unknown: [RawAttribute(flags: 0xE0, type: 99, value: [1])])
        let v6 = PathAttributes(origin: .igp, asPath: .sequence([1]),
                                mpReach: MPReach(family: .ipv6Unicast, nextHop: ip("2001:db8::1"), linkLocalNextHop: ip("fe80::1"),
                                                 nlri: [prefix("2001:db8:1::/48"), prefix("2001:db8:2::/64")]),
                                mpUnreach: MPUnreach(family: .ipv6Unicast, withdrawn: [prefix("2001:db8:3::/48")]))
        let messages: [BGPMessage] = [
            .open(SessionConfig(localAS: 65001, peerAS: nil, bgpIdentifier: 1, families: [.ipv4Unicast, .ipv6Unicast],
                                extendedMessages: true, gracefulRestart: gr).openMessage),
            .update(UpdateMessage(withdrawn: [prefix("10.9.0.0/16")], attributes: attrs, nlri: [prefix("10.1.0.0/16"), prefix("10.2.3.0/24")])),
            .update(UpdateMessage(attributes: v6)),
            .notification(.cease(.administrativeShutdown, communication: "maintenance")),
            .routeRefresh(RouteRefreshMessage(family: .ipv4Unicast)),
            .keepalive,
        ]
        return messages.flatMap { m in [m.encode(context: WireContext(fourOctetAS: true)), m.encode(context: WireContext(fourOctetAS: false))] }
    }

    func testRandomMutationsNeverCrash() {
        var rng = SeededGenerator(seed: 0x5EED)
        let seeds = corpus
        let contexts = [WireContext(), WireContext(fourOctetAS: false), WireContext(externalPeer: true, peerAS: 65001),
                        WireContext(extendedMessages: true, revisedErrorHandling: false)]
        var decoded = 0, notified = 0
        // CI can run longer with BGP_FUZZ_SECONDS=<n> (and BGP_FUZZ_SEED to vary the stream).
        let seconds = ProcessInfo.processInfo.environment["BGP_FUZZ_SECONDS"].flatMap(Double.init)
        if let seed = ProcessInfo.processInfo.environment["BGP_FUZZ_SEED"].flatMap(UInt64.init) { rng = SeededGenerator(seed: seed) }
        let deadline = Date().addingTimeInterval(seconds ?? 0)
        var iteration = 0
        while seconds == nil ? iteration < 60_000 : Date() < deadline {
            defer { iteration += 1 }
            var bytes = seeds[iteration % seeds.count]
            let mutations = Int.random(in: 1...4, using: &rng)
            for _ in 0..<mutations {
                switch Int.random(in: 0..<6, using: &rng) {
                case 0 where !bytes.isEmpty: // flip a byte (mostly beyond the header, to reach the body decoders)
                    let i = Int.random(in: min(18, bytes.count - 1)..<bytes.count, using: &rng)
                    bytes[i] = UInt8.random(in: 0...255, using: &rng)
                case 1 where bytes.count > 19: // truncate, keeping the header length consistent
                    bytes.removeLast(Int.random(in: 1...min(8, bytes.count - 19), using: &rng))
                case 2: // insert random octets
                    let i = Int.random(in: 0...bytes.count, using: &rng)
                    bytes.insert(contentsOf: (0..<Int.random(in: 1...6, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: i)
                case 3 where bytes.count > 20: // set a byte to an edge value
                    let i = Int.random(in: 19..<bytes.count, using: &rng)
                    bytes[i] = [0, 1, 0x7F, 0x80, 0xFF][Int.random(in: 0..<5, using: &rng)]
                default: // delete a byte
                    if bytes.count > 19 { bytes.remove(at: Int.random(in: 19..<bytes.count, using: &rng)) }
                }
            }
            // Keep the header's length field consistent most of the time, so the body decoders run.
            if bytes.count >= 19, bytes.count <= 0xFFFF, Int.random(in: 0..<4, using: &rng) != 0 {
                bytes[16] = UInt8(bytes.count >> 8)
                bytes[17] = UInt8(bytes.count & 0xFF)
            }
            let context = contexts[iteration % contexts.count]
            do {
                _ = try BGPMessage.decode(bytes, context: context)
                decoded += 1
            } catch {
                XCTAssertGreaterThan(error.code, 0)
                notified += 1
            }
            var framer = MessageFramer(context: context)
            framer.append(bytes)
            _ = try? framer.nextMessage()
        }
        XCTAssertGreaterThan(decoded, 1000, "mutations should often still decode")
        XCTAssertGreaterThan(notified, 1000, "mutations should often be rejected")
    }

    func testRandomBytesNeverCrash() {
        var rng = SeededGenerator(seed: 42)
        for _ in 0..<20_000 {
            let type = UInt8.random(in: 1...5, using: &rng)
            let body = (0..<Int.random(in: 0...80, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = try? BGPMessage.decode(message(type: type, body: body))
        }
    }

    func testRoundTripsSurviveBothASWidths() throws {
        for (i, bytes) in corpus.enumerated() {
            let ctx = WireContext(fourOctetAS: i % 2 == 0)
            let decoded = try BGPMessage.decode(bytes, context: ctx)
            XCTAssertEqual(decoded.encode(context: ctx), bytes)
        }
    }
}
