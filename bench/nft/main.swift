import Core
import Foundation

/// bench/nft.sh's driver: programs the benchmark ruleset into namespace NS through
/// NFTProgrammer, prints timings as key=value, and writes the same ruleset as nft text to FILE.
/// Usage: nft-bench NS FILE CHAINS RULES_PER_CHAIN SET_ELEMENTS
@main
struct NFTBench {
    static func ruleset(chains: Int, rulesPerChain: Int, elements: Int, variant: Int = 0) -> NFTRuleset {
        var rs = NFTRuleset()
        rs.add(NFTSet(name: "s-big", type: .ipv4Addr, interval: true, elements: Set((0..<elements).map { i in
            .net(IPNet(bytes: [10, 100 + UInt8(i >> 16), UInt8((i >> 8) & 255), UInt8(i & 255)], prefixLength: 32)!)
        })))
        rs.add(NFTSet(name: "ports", type: .inetService, elements: [.port(80), .port(443), .port(8080)]))
        var map: [String: NFTVerdict] = [:]
        for c in 0..<chains {
            let name = "cali-pi-\(c)"
            map["cali\(c)"] = .goto(name)
            var rules: [NFTRule] = []
            for r in 0..<rulesPerChain {
                let port = UInt16(1000 + r + (c == 0 ? variant : 0))
                switch r % 4 {
                case 0: rules.append(NFTRule([.addrInSet(.source, ipv6: false, set: "s-big"), .port(.tcp, .destination, .eq(port))],
                                             statements: [.counter, .orMark(0x10000)], verdict: .return))
                case 1: rules.append(NFTRule([.addr(.source, IPNet(bytes: [10, UInt8(c % 250), UInt8(r), 0], prefixLength: 24)!),
                                              .port(.udp, .destination, .range(port...(port + 10)))], verdict: .accept))
                case 2: rules.append(NFTRule([.ctState([.established, .related])], verdict: .accept, comment: "\(c)/\(r)"))
                default: rules.append(NFTRule([.mark(value: 0x10000, mask: 0x10000), .port(.tcp, .source, .set("ports"))],
                                              statements: [.counter], verdict: .drop, comment: "\(c)/\(r)"))
                }
            }
            rs.add(NFTChain(name: name, rules: rules))
        }
        rs.add(NFTVerdictMap(name: "to-wl", elements: map))
        rs.add(NFTChain(name: "forward", base: NFTBaseChain(hook: .forward), rules: [NFTRule(verdict: .vmapOifname("to-wl"))]))
        return rs
    }

    static func ms(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    }

    static func main() throws {
        let args = CommandLine.arguments
        guard args.count == 6, let chains = Int(args[3]), let per = Int(args[4]), let elements = Int(args[5]) else {
            FileHandle.standardError.write("usage: nft-bench NS FILE CHAINS RULES_PER_CHAIN SET_ELEMENTS\n".data(using: .utf8)!)
            exit(2)
        }
        let desired = ruleset(chains: chains, rulesPerChain: per, elements: elements)
        var text = ""
        let renderMs = ms { text = NFTText.render(desired) }
        try text.write(toFile: args[2], atomically: true, encoding: .utf8)
        let nft = try NFTProgrammer(namespace: .named(args[1]))
        try nft.deleteTable()
        var plan = NFTPlan(table: "calico", family: .inet)
        let diffMs = ms { plan = NFTDiff.plan(from: NFTProgrammedState(), to: desired) }
        let fullMs = try ms { try nft.commit(plan) }
        var state = NFTProgrammedState()
        let readMs = try ms { state = try nft.readProgrammed() }
        // One changed rule in one chain, from the cached state (what felix does per event).
        var times: [Double] = [], commits: [Double] = [], diffs: [Double] = [], reads: [Double] = []
        for v in 1...20 {
            let changed = ruleset(chains: chains, rulesPerChain: per, elements: elements, variant: v)
            times.append(try ms { try nft.apply(changed) })
            let st = nft.lastStats
            commits.append(Double(st.commitNs) / 1e6)
            diffs.append(Double(st.diffNs) / 1e6)
            reads.append(Double(st.readNs) / 1e6)
        }
        times.sort()
        func median(_ v: [Double]) -> String { String(format: "%.2f", v.sorted()[v.count / 2]) }
        let again = try ms { _ = try NFTProgrammer(namespace: .named(args[1])).apply(ruleset(chains: chains, rulesPerChain: per, elements: elements, variant: 20)) }
        print("rules=\(state.ruleCount) chains=\(state.chains.count) render_ms=\(Int(renderMs)) diff_ms=\(Int(diffMs)) "
              + "full_ms=\(Int(fullMs)) read_ms=\(Int(readMs)) update_median_ms=\(String(format: "%.1f", times[times.count / 2])) "
              + "update_max_ms=\(String(format: "%.1f", times.last!)) restart_noop_ms=\(Int(again)) "
              + "update_commit_median_ms=\(median(commits)) update_diff_median_ms=\(median(diffs)) update_read_median_ms=\(median(reads))")
    }
}
