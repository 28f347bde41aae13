import Core
import Dispatch

/// Kernel cost of single-change transactions on a programmed table of the bench's shape
/// (FELIX_BENCH_PROBE=1): which kinds of change make nf_tables walk the jump graph.
enum KernelProbe {
    static func run(_ programmer: NFTProgrammer, _ base: NFTRuleset) throws -> [String] {
        func time(_ label: String, _ name: String, _ change: (inout NFTRuleset, Int) -> Void) throws -> String {
            try time(label, [name], change)
        }
        func time(_ label: String, _ names: Set<String>, _ change: (inout NFTRuleset, Int) -> Void) throws -> String {
            var samples: [UInt64] = []
            for i in 0..<20 {
                var next = base
                change(&next, i)
                let t = DispatchTime.now().uptimeNanoseconds
                try programmer.apply(next, changed: names)
                samples.append(DispatchTime.now().uptimeNanoseconds - t)
                try programmer.apply(base, changed: names)
            }
            samples.sort()
            return "probe_\(label)_ms=" + FelixBench.format("%.2f", Double(samples[samples.count / 2]) / 1e6)
        }
        let policyChain = base.chains.keys.filter { $0.hasPrefix("cali-pi-") }.sorted().first!
        let setName = base.sets.keys.filter { $0.hasPrefix("s4-") }.sorted().first!
        let members = base.sets.keys.filter { $0.hasPrefix("ep-cali-pi-") }.sorted().first!
        var out: [String] = []
        out.append(try time("plain_set_element", setName) { rs, i in
            rs.sets[setName]!.elements.insert(.net(IPNet(bytes: [203, 0, 113, UInt8(i)], prefixLength: 32)!)) })
        let valueSet = base.sets.values.filter { $0.type == .inetService }.map(\.name).sorted().first!
        out.append(try time("value_set_replace", valueSet) { rs, i in
            rs.sets[valueSet]!.elements = [.port(UInt16(20000 + i))] })
        out.append(try time("interface_set_element", members) { rs, i in
            rs.sets[members]!.elements.insert(.ifname("fxprobe\(i)")) })
        out.append(try time("rule_verdict_shared_chain", policyChain) { rs, i in
            rs.chains[policyChain]!.rules.append(NFTRule([.l4proto(6)], verdict: .drop, comment: "probe \(i)")) })
        // At a position (before the chain's first rule, NFTA_RULE_POSITION) rather than appended.
        out.append(try time("rule_verdict_insert_first", policyChain) { rs, i in
            rs.chains[policyChain]!.rules.insert(NFTRule([.l4proto(6)], verdict: .drop, comment: "probe \(i)"), at: 0) })
        // Two rules in one transaction: the table is validated once per commit, not per rule.
        out.append(try time("two_rules_verdict_shared_chain", policyChain) { rs, i in
            rs.chains[policyChain]!.rules += [NFTRule([.l4proto(6)], verdict: .drop, comment: "probe \(i)"),
                                              NFTRule([.l4proto(17)], verdict: .drop, comment: "probe \(i)")] })
        // A new named set alone, and with a rule that looks it up (what a rule gaining a value set costs).
        let probeSet = "fx-probe-set"
        out.append(try time("new_set_alone", probeSet) { rs, i in
            rs.add(NFTSet(name: probeSet, type: .inetService, elements: [.port(UInt16(20000 + i))])) })
        out.append(try time("rule_with_new_set", [probeSet, policyChain]) { rs, i in
            rs.add(NFTSet(name: probeSet, type: .inetService, elements: [.port(UInt16(20000 + i))]))
            rs.chains[policyChain]!.rules.append(NFTRule([.port(.tcp, .destination, .set(probeSet))], verdict: .drop, comment: "probe \(i)")) })
        out.append(try time("rule_with_existing_set", policyChain) { rs, i in
            rs.chains[policyChain]!.rules.append(NFTRule([.port(.tcp, .destination, .set(valueSet))], verdict: .drop, comment: "probe \(i)")) })
        out.append(try time("rule_counter_shared_chain", policyChain) { rs, i in
            rs.chains[policyChain]!.rules.append(NFTRule([.l4proto(6)], statements: [.counter], comment: "probe \(i)")) })
        out.append(try time("rule_verdict_orphan_chain", "fx-orphan") { rs, i in
            rs.add(NFTChain(name: "fx-orphan", rules: [NFTRule([.l4proto(6)], verdict: .drop, comment: "probe \(i)")])) })
        out.append(try time("rule_delete_shared_chain", policyChain) { rs, _ in
            rs.chains[policyChain]!.rules.removeLast() })
        // The same rule into a small second table next to ours: the kernel validates per table,
        // so the big table's jump graph is not walked.
        let other = try NFTProgrammer(namespace: programmer.namespace, table: "calico-fxprobe")
        defer { try? other.deleteTable() }
        var small = NFTRuleset(table: "calico-fxprobe")
        small.add(NFTChain(name: "eval", rules: [NFTRule([.l4proto(17)], verdict: .return)]))
        small.add(NFTChain(name: "fwd", base: NFTBaseChain(hook: .forward, priority: -1, policy: .accept), rules: [NFTRule(verdict: .jump("eval"))]))
        try other.apply(small)
        var samples: [UInt64] = []
        for i in 0..<20 {
            var next = small
            next.chains["eval"]!.rules.append(NFTRule([.l4proto(6)], verdict: .drop, comment: "probe \(i)"))
            let t = DispatchTime.now().uptimeNanoseconds
            try other.apply(next, changed: ["eval"])
            samples.append(DispatchTime.now().uptimeNanoseconds - t)
            try other.apply(small, changed: ["eval"])
        }
        samples.sort()
        out.append("probe_rule_verdict_second_table_ms=" + FelixBench.format("%.2f", Double(samples[samples.count / 2]) / 1e6))
        return out
    }
}
