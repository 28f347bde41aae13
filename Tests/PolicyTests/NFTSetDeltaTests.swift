import Core
import XCTest
@testable import Policy

/// The differ keys a set's changed elements alone (`NFTDiff.keyDelta`) in hash sets of
/// addresses and of interface names, and must plan exactly what comparing the whole set with the
/// kernel's keys plans; interval sets change by whole intervals (`NFTDiff.intervalDelta`).
final class NFTSetDeltaTests: XCTestCase {
    private func host(_ bytes: [UInt8]) -> NFTSetElement { .net(IPNet(bytes: bytes, prefixLength: bytes.count * 8)!) }

    /// Whole comparison: the reference the delta must equal.
    private func whole(_ before: NFTSet, _ after: NFTSet) -> (gone: [NFTKeyElement], added: [NFTKeyElement]) {
        let have = NFTElementCodec.keyElements(before), want = NFTElementCodec.keyElements(after)
        return (have.subtracting(want).sorted(), want.subtracting(have).sorted())
    }

    private func delta(_ before: NFTSet, _ after: NFTSet) -> NFTSetDelta {
        var d = NFTSetDelta()
        for e in before.elements.subtracting(after.elements) { d.remove(e) }
        for e in after.elements.subtracting(before.elements) { d.insert(e) }
        return d
    }

    /// Random hosts packed into a few short runs, with the lowest and highest addresses of the
    /// family among them, changed a few at a time.
    func testAddressDeltasEqualTheWholeComparison() throws {
        var g = RNG(state: 41)
        var compared = 0
        for v6 in [false, true] {
            let width = v6 ? 16 : 4
            // Addresses near 0, near the top and in the middle: prefix + one varying last byte.
            let bases: [[UInt8]] = [[UInt8](repeating: 0, count: width), [UInt8](repeating: 255, count: width),
                                    (0..<width).map { $0 == 0 ? 10 : ($0 == width - 1 ? 0 : 1) }]
            func random() -> NFTSetElement {
                var bytes = bases.randomElement(using: &g)!
                let last = bytes[width - 1] == 255 ? UInt8.random(in: 240...255, using: &g) : UInt8.random(in: 0...15, using: &g)
                bytes[width - 1] = last
                return host(bytes)
            }
            let type: NFTSetType = v6 ? .ipv6Addr : .ipv4Addr
            var before = NFTSet(name: "s", type: type, elements: Set((0..<20).map { _ in random() }))
            for _ in 0..<400 {
                var after = before
                for _ in 0..<Int.random(in: 1...4, using: &g) {
                    let e = random()
                    if after.elements.contains(e) { after.elements.remove(e) } else { after.elements.insert(e) }
                }
                let programmed = NFTElementCodec.keyElements(before)
                let got = try XCTUnwrap(NFTDiff.keyDelta(after, delta(before, after), programmed: programmed))
                let want = whole(before, after)
                XCTAssertEqual(got.gone, want.gone, "v6 \(v6): keys to delete for \(before.elements.sorted()) -> \(after.elements.sorted())")
                XCTAssertEqual(got.added, want.added, "v6 \(v6): keys to add for \(before.elements.sorted()) -> \(after.elements.sorted())")
                compared += 1
                before = after
            }
        }
        XCTAssertEqual(compared, 800)
    }

    func testInterfaceDeltasEqualTheWholeComparison() throws {
        var g = RNG(state: 7)
        var before = NFTSet(name: "ep", type: .ifname, elements: Set((0..<30).map { .ifname("cali\($0)") }))
        for _ in 0..<200 {
            var after = before
            for _ in 0..<Int.random(in: 1...3, using: &g) {
                let e = NFTSetElement.ifname("cali\(Int.random(in: 0..<60, using: &g))")
                if after.elements.contains(e) { after.elements.remove(e) } else { after.elements.insert(e) }
            }
            let got = try XCTUnwrap(NFTDiff.keyDelta(after, delta(before, after), programmed: NFTElementCodec.keyElements(before)))
            let want = whole(before, after)
            XCTAssertEqual(got.gone, want.gone)
            XCTAssertEqual(got.added, want.added)
            before = after
        }
    }

    /// Where a delta cannot say, the differ is told to compare the set whole: an interval set, a
    /// CIDR or an address of the other family in a hash set, a port set, a name longer than the key.
    func testDeltasThatCannotSayAreRefused() {
        let hosts = NFTSet(name: "s", type: .ipv4Addr, elements: [host([10, 0, 0, 1])])
        var one = NFTSetDelta()
        one.insert(host([10, 0, 0, 2]))
        XCTAssertNotNil(NFTDiff.keyDelta(hosts, one, programmed: []))
        XCTAssertNil(NFTDiff.keyDelta(NFTSet(name: "s", type: .ipv4Addr, interval: true, elements: [host([10, 0, 0, 1])]), one, programmed: []))
        var cidr = NFTSetDelta()
        cidr.insert(.net(IPNet(parsing: "10.0.1.0/30")!))
        XCTAssertNil(NFTDiff.keyDelta(hosts, cidr, programmed: []))
        var wrongFamily = NFTSetDelta()
        wrongFamily.insert(host([UInt8](repeating: 1, count: 16)))
        XCTAssertNil(NFTDiff.keyDelta(hosts, wrongFamily, programmed: []))
        var port = NFTSetDelta()
        port.insert(.port(80))
        XCTAssertNil(NFTDiff.keyDelta(NFTSet(name: "p", type: .inetService, elements: [.port(80)]), port, programmed: []))
        var long = NFTSetDelta()
        long.insert(.ifname("a-name-of-16-chr"))
        XCTAssertNil(NFTDiff.keyDelta(NFTSet(name: "ep", type: .ifname, elements: [.ifname("a-name-of-16-chr")]), long, programmed: []))
    }

    /// An address taken out of the middle of an interval: the kernel refuses the two keys that
    /// would split it while it is there, so the whole interval goes and its two halves come.
    func testAnIntervalThatChangesIsReplacedWhole() {
        let run = NFTSet(name: "s", type: .ipv4Addr, interval: true, elements: Set((1...5).map { host([10, 0, 0, $0]) }))
        var split = run
        split.elements.remove(host([10, 0, 0, 3]))
        let key = { (last: UInt8, end: Bool) in NFTKeyElement(key: [10, 0, 0, last], intervalEnd: end) }
        let (gone, added) = NFTDiff.intervalDelta(have: NFTElementCodec.keyElements(run), want: NFTElementCodec.keyElements(split))
        XCTAssertEqual(gone, [key(1, false), key(6, true)])
        XCTAssertEqual(added, [key(1, false), key(3, true), key(4, false), key(6, true)])
        // Unchanged intervals stay: a second run beside it is not touched.
        var two = run
        two.elements.insert(host([10, 0, 0, 9]))
        var twoSplit = split
        twoSplit.elements.insert(host([10, 0, 0, 9]))
        let kept = NFTDiff.intervalDelta(have: NFTElementCodec.keyElements(two), want: NFTElementCodec.keyElements(twoSplit))
        XCTAssertEqual(kept.gone, gone)
        XCTAssertEqual(kept.added, added)
    }

    /// The differ uses a delta only with the caller's list of changes, i.e. when the kernel's
    /// keys are known to be the previous ruleset's.
    func testTheDifferUsesDeltasOnlyWithNamedChanges() {
        var before = NFTRuleset(table: "t", family: .inet)
        before.add(NFTSet(name: "s4", type: .ipv4Addr, elements: [host([10, 0, 0, 1])]))
        var after = before
        after.sets["s4"]?.elements.insert(host([10, 0, 0, 2]))
        // A delta that lies (it names an address the set does not gain): used, it shows.
        var lying = NFTSetDelta()
        lying.insert(host([10, 0, 0, 9]))
        let state = NFTProgrammedState.assuming(before)
        let narrowed = NFTDiff.plan(from: state, to: after, previous: after, changed: ["s4"], deltas: ["s4": lying])
        XCTAssertNotEqual(narrowed.addSetElements, NFTDiff.plan(from: state, to: after).addSetElements)
        let unnamed = NFTDiff.plan(from: state, to: after, deltas: ["s4": lying])
        XCTAssertEqual(unnamed.addSetElements, NFTDiff.plan(from: state, to: after).addSetElements)
    }
}
