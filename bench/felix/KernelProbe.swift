import Core
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Kernel cost of single-change transactions on a programmed table of the bench's shape
/// (FELIX_BENCH_PROBE=1): which kinds of change make nf_tables walk the jump graph.
enum KernelProbe {
    static func run(_ programmer: NFTProgrammer, _ base: NFTRuleset) throws -> [String] {
        func time(_ label: String, _ name: String, _ change: (inout NFTRuleset, Int) -> Void) throws -> String {
            try time(label, [name], change)
        }
        // FELIX_BENCH_PROBE=1 runs every probe; any other value only those whose label contains
        // it (e.g. to `perf record` one kind). FELIX_BENCH_PROBE_N: transactions per probe (20).
        let only = FelixBench.env("FELIX_BENCH_PROBE").flatMap { $0 == "1" ? nil : $0 }
        let rounds = FelixBench.env("FELIX_BENCH_PROBE_N").flatMap(Int.init) ?? 20
        // FELIX_BENCH_PROBE_COLD=<MiB> (1: 48): before each timed transaction, write that much
        // memory (48 MiB: more than the L2 and the shared L3), as felix's calc and render touch
        // memory between two updates, so the kernel's walks meet cold caches as in the bench's
        // updates, not the ones the previous probe round left warm.
        let coldMiB = FelixBench.env("FELIX_BENCH_PROBE_COLD").map { Int($0).map { $0 == 1 ? 48 : $0 } ?? 48 } ?? 0
        let cold = coldMiB > 0
        var scratch = [UInt8](repeating: 0, count: coldMiB << 20)
        func evict(_ round: Int) {
            guard cold else { return }
            scratch.withUnsafeMutableBytes { _ = memset($0.baseAddress!, Int32(round & 0xff), $0.count) }
        }
        func time(_ label: String, _ names: Set<String>, _ change: (inout NFTRuleset, Int) -> Void) throws -> String {
            if let only, !label.contains(only) { return "" }
            var samples: [UInt64] = [], commits: [UInt64] = [], ours: [UInt64] = []
            var phases: [[UInt64]] = [[], [], []]
            for i in 0..<rounds {
                var next = base
                change(&next, i)
                evict(i)
                let t = DispatchTime.now().uptimeNanoseconds
                try programmer.apply(next, changed: names)
                samples.append(DispatchTime.now().uptimeNanoseconds - t)
                let st = programmer.lastStats
                commits.append(st.commitNs)
                ours.append(st.readNs + st.diffNs + st.encodeNs + st.updateNs)
                for (k, v) in [st.diffNs, st.encodeNs, st.updateNs].enumerated() { phases[k].append(v) }
                try programmer.apply(base, changed: names)
            }
            samples.sort()
            commits.sort()
            ours.sort()
            // The whole apply, the commit alone (send, kernel, answers), and the programmer's own
            // part (read, diff, encode, state update).
            return "probe_\(label)_ms=" + FelixBench.format("%.2f", Double(samples[samples.count / 2]) / 1e6)
                + " probe_\(label)_commit_ms=" + FelixBench.format("%.2f", Double(commits[commits.count / 2]) / 1e6)
                + " probe_\(label)_ours_ms=" + FelixBench.format("%.2f", Double(ours[ours.count / 2]) / 1e6)
                + zip(["diff", "encode", "update"], phases).map { name, v in
                    " probe_\(label)_\(name)_ms=" + FelixBench.format("%.3f", Double(v.sorted()[v.count / 2]) / 1e6)
                }.joined()
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
        out += try placeProbes(programmer, base, policyChain: policyChain, members: members, time: time)
        // The same rule into a small second table next to ours: the kernel validates per table,
        // so the big table's jump graph is not walked.
        if let only, !"rule_verdict_second_table".contains(only) { return out.filter { !$0.isEmpty } }
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
        return out.filter { !$0.isEmpty }
    }

    /// Opening a place, part by part (FELIX_BENCH_PROBE): a new policy chain, the rules that make
    /// the big shared dispatch chain jump to it (appended, or inserted mid-chain at a position as
    /// `DispatchIndex` places them), its interface set; each alone and together, so the extra
    /// milliseconds of a create/selector update's commit can be put on one of them.
    static func placeProbes(_ programmer: NFTProgrammer, _ base: NFTRuleset, policyChain: String, members: String,
                            time: (String, Set<String>, (inout NFTRuleset, Int) -> Void) throws -> String) throws -> [String] {
        let dispatch = "cali-to-wl"
        let chain = "cali-pi-fxprobe", set = "ep-cali-pi-fxprobe"
        let mid = base.chains[dispatch]!.rules.count / 2 / 2 * 2 + 1
        let pass: UInt32 = 0x20000, accept: UInt32 = 0x10000
        func returnRule(_ i: Int) -> NFTRule {
            NFTRule([.mark(value: accept, mask: accept)], verdict: .return, comment: "allowed: probe \(i)")
        }
        func jumpRule(_ guardSet: String?, to target: String = chain, comment: String? = nil) -> NFTRule {
            NFTRule((guardSet.map { [NFTMatch.oifnameInSet($0)] } ?? []) + [.mark(value: 0, mask: pass)], verdict: .jump(target), comment: comment)
        }
        /// One rule of the place's shape into a new chain of its own.
        func newChain(_ rs: inout NFTRuleset, _ i: Int) {
            rs.add(NFTChain(name: chain, rules: [NFTRule([.l4proto(6)], verdict: .drop, comment: "probe \(i)")]))
        }
        /// The place's interface set, as many interfaces as an existing one.
        func newSet(_ rs: inout NFTRuleset) {
            rs.add(NFTSet(name: set, type: .ifname, elements: base.sets[members]!.elements))
        }
        /// The policy chain as the renderer makes it: a copy of an existing policy's rules.
        func policyCopy(_ rs: inout NFTRuleset, _ i: Int) {
            var rules = base.chains[policyChain]!.rules
            rules.append(NFTRule([.l4proto(6)], verdict: .drop, comment: "probe \(i)"))
            rs.add(NFTChain(name: chain, rules: rules))
        }
        func dispatchAt(_ rs: inout NFTRuleset, _ rules: [NFTRule], mid atMid: Bool) {
            rs.chains[dispatch]!.rules.insert(contentsOf: rules, at: atMid ? mid : rs.chains[dispatch]!.rules.count)
        }
        let both: Set<String> = [chain, set, dispatch]
        var out: [String] = []
        // The dispatch chain alone: a rule of its own (no new chain) appended or inserted.
        out.append(try time("dispatch_return_append", [dispatch]) { rs, i in dispatchAt(&rs, [returnRule(i)], mid: false) })
        out.append(try time("dispatch_return_mid", [dispatch]) { rs, i in dispatchAt(&rs, [returnRule(i)], mid: true) })
        out.append(try time("dispatch_two_rules_mid", [dispatch]) { rs, i in
            dispatchAt(&rs, [jumpRule(members, to: policyChain, comment: "probe \(i)"), returnRule(i)], mid: true) })
        // Where a rule goes by handle (NFTA_RULE_POSITION: the kernel walks the chain's rules
        // from its head to that handle): before the first rule against before the last.
        out.append(try time("dispatch_return_before_first", [dispatch]) { rs, i in
            rs.chains[dispatch]!.rules.insert(returnRule(i), at: 0) })
        out.append(try time("dispatch_return_before_last", [dispatch]) { rs, i in
            rs.chains[dispatch]!.rules.insert(returnRule(i), at: rs.chains[dispatch]!.rules.count - 1) })
        // A set named by a rule is found by walking the table's sets in the order they were made
        // (the full program makes them sorted by name): the first value set against the last.
        let valueSets = base.sets.values.filter { $0.type == .inetService }.map(\.name).sorted()
        for (label, valueSet) in [("lookup_early_set", valueSets.first!), ("lookup_late_set", valueSets.last!)] {
            out.append(try time(label, [policyChain]) { rs, i in
                rs.chains[policyChain]!.rules.append(NFTRule([.port(.tcp, .destination, .set(valueSet))], verdict: .drop, comment: "probe \(i)")) })
        }
        // A new chain: empty, with one rule, with the policy's rules (nothing jumps to it).
        out.append(try time("new_chain_empty", [chain]) { rs, _ in rs.add(NFTChain(name: chain)) })
        out.append(try time("new_chain_policy_rules", [chain]) { rs, i in policyCopy(&rs, i) })
        out.append(try time("new_chain_and_set_unreferenced", [chain, set]) { rs, i in policyCopy(&rs, i); newSet(&rs) })
        // A new chain that the dispatch chain jumps to.
        out.append(try time("new_chain_jump_append", both) { rs, i in newChain(&rs, i); dispatchAt(&rs, [jumpRule(nil)], mid: false) })
        out.append(try time("new_chain_jump_mid", both) { rs, i in newChain(&rs, i); dispatchAt(&rs, [jumpRule(nil)], mid: true) })
        out.append(try time("new_chain_jump_mid_new_set", both) { rs, i in
            newChain(&rs, i); newSet(&rs); dispatchAt(&rs, [jumpRule(set)], mid: true) })
        out.append(try time("new_chain_jump_mid_existing_set", both) { rs, i in
            newChain(&rs, i); dispatchAt(&rs, [jumpRule(members)], mid: true) })
        // The whole place as the renderer makes it, mid-chain and appended.
        out.append(try time("place_mid", both) { rs, i in
            policyCopy(&rs, i); newSet(&rs); dispatchAt(&rs, [jumpRule(set), returnRule(i)], mid: true) })
        out.append(try time("place_append", both) { rs, i in
            policyCopy(&rs, i); newSet(&rs); dispatchAt(&rs, [jumpRule(set), returnRule(i)], mid: false) })
        return out.filter { !$0.isEmpty }
    }
}
