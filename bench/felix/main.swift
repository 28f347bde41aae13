#if canImport(Glibc)
import Glibc
#endif
import Core

/// bench/felix.sh's driver: felix's programming path (calculation, render, one atomic batch) at
/// scale. 1,000 local endpoints in 20 namespaces, 500 policies mixing label selectors, rule
/// selectors, ports, port ranges, named ports and CIDRs with exceptions, 50 network sets.
/// Prints key=value timings and writes the same full ruleset as nft text to FILE.
/// Usage: felix-bench NS FILE ENDPOINTS POLICIES UPDATES
@main
struct FelixBench {
    static func sel(_ s: String) -> SelectorExpr { try! SelectorExpr.parse(s) }
    static func net(_ s: String) -> IPNet { IPNet(parsing: s)! }

    static func endpoint(_ i: Int) -> WorkloadEndpoint {
        let ns = "ns\(i % 20)", pod = "pod\(i)"
        let labels = ["app": "app\(i % 50)", "tier": ["web", "api", "db", "cache"][i % 4], "version": "v\(i % 3)",
                      "projectcalico.org/namespace": ns, "projectcalico.org/orchestrator": "k8s"]
        return WorkloadEndpoint(name: "node-k8s-\(pod)-eth0", namespace: ns, pod: pod, node: "node",
                                interfaceName: "cali" + hex(i, width: 11),
                                addresses: [IPNet(bytes: [10, 60 + UInt8(i >> 16), UInt8((i >> 8) & 255), UInt8(i & 255)], prefixLength: 32)!],
                                labels: labels, profiles: ["kns.\(ns)"],
                                ports: [EndpointPort(name: "http", protocol: .tcp, port: UInt16(8000 + i % 7))])
    }

    /// `window` (selector updates): the policy applies instead to two of the five apps of its
    /// namespace (10 endpoints each), the pair sliding by one app per step, so consecutive
    /// selectors overlap: 10 endpoints kept, 10 gained, 10 lost.
    static func policy(_ i: Int, variant: Int = 0, extraRule: Bool = false, window: Int? = nil) -> Policy {
        let ns = "ns\(i % 20)"
        let selectors = ["app == 'app\(i % 50)'", "tier in {'web', 'api'} && version != 'v\(i % 3)'", "has(app) && app starts with 'app\(i % 5)'"]
        // Endpoint n is in namespace n % 20 with app n % 50: a namespace holds the apps a with a % 10 == ns % 10.
        let base = window.map { w in sel("app in {'app\(i % 10 + 10 * (w % 5))', 'app\(i % 10 + 10 * ((w + 1) % 5))'}") }
            ?? sel(selectors[i % 3])
        var ingress: [PolicyRule] = []
        var egress: [PolicyRule] = []
        let port = UInt16(1000 + (i % 100) + variant)
        switch i % 4 {
        case 0:
            ingress = [PolicyRule(action: .allow, protocol: .tcp, source: EntityMatch(selector: sel("app == 'app\((i + 1) % 50)'")),
                                  destination: EntityMatch(ports: [.range(port, port), .range(8080, 8090)]))]
        case 1:
            ingress = [PolicyRule(action: .allow, protocol: .tcp, source: EntityMatch(nets: [net("10.\(i % 200).0.0/16")], notNets: [net("10.\(i % 200).1.0/24")]),
                                  destination: EntityMatch(ports: [.range(port, port)]))]
            egress = [PolicyRule(action: .allow, protocol: .udp, destination: EntityMatch(nets: [net("192.168.\(i % 250).0/24")], ports: [.range(53, 53)]))]
        case 2:
            ingress = [PolicyRule(action: .allow, protocol: .tcp, source: EntityMatch(selector: sel("tier == 'web'")),
                                  destination: EntityMatch(ports: [.named("http"), .range(port, port)]))]
        default:
            ingress = [PolicyRule(action: .deny, protocol: .udp, source: EntityMatch(selector: sel("setname == 'set\(i % 50)'"))),
                       PolicyRule(action: .allow, source: EntityMatch(selector: sel("version == 'v1'")), destination: EntityMatch(ports: [.range(port, port + 5)]))]
        }
        if extraRule {
            ingress.insert(PolicyRule(action: .deny, protocol: .tcp, source: EntityMatch(nets: [net("10.250.0.0/16")]),
                                      destination: EntityMatch(ports: [.range(9999, 9999)])), at: 0)
        }
        return Policy(key: PolicyKey(namespace: ns, name: "pol\(i)"), order: Double(i % 10) * 100,
                      selector: .allOf([base, .equals("projectcalico.org/namespace", ns)]),
                      types: PolicyTypes(ingress: true, egress: !egress.isEmpty), ingress: ingress, egress: egress)
    }

    static func ms(_ ns: UInt64) -> Double { Double(ns) / 1e6 }
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    // The driver does without Foundation (which would load ICU and ~6 MiB of libraries whose
    // pages count in the peak RSS measured here): formatting, files and the environment by hand.
    /// printf's formatting of numbers (`%.2f`, `%d`); text goes in by interpolation.
    static func format(_ spec: String, _ args: CVarArg...) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let n = Int(withVaList(args) { vsnprintf(&buffer, buffer.count, spec, $0) })
        if n >= buffer.count {
            buffer = [CChar](repeating: 0, count: n + 1)
            _ = withVaList(args) { vsnprintf(&buffer, buffer.count, spec, $0) }
        }
        return String(decoding: buffer.prefix(max(0, n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    static func hex(_ v: Int, width: Int) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
    static func env(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
    static func fail(_ message: String, status: Int32 = 1) -> Never {
        var line = message + "\n"
        _ = line.withUTF8 { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        exit(status)
    }
    static func readFile(_ path: String) -> String {
        guard let f = fopen(path, "r") else { return "" }
        defer { fclose(f) }
        var bytes: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 4096)
        while case let n = fread(&chunk, 1, chunk.count, f), n > 0 { bytes += chunk[..<n] }
        return String(decoding: bytes, as: UTF8.self)
    }
    static func writeFile(_ path: String, _ text: String) {
        guard let f = fopen(path, "w") else { fail("cannot write \(path)") }
        var text = text
        let written = text.withUTF8 { fwrite($0.baseAddress, 1, $0.count, f) }
        guard fclose(f) == 0, written == text.utf8.count else { fail("cannot write \(path)") }
    }

    static func peakRSSkB() -> Int { statusKB("VmHWM") }
    /// A `/proc/self/status` field in kB (VmHWM, RssAnon, RssFile).
    static func statusKB(_ field: String) -> Int {
        for line in readFile("/proc/self/status").split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return 0
    }

    static func main() throws {
        let args = CommandLine.arguments
        guard args.count == 6, let nEndpoints = Int(args[3]), let nPolicies = Int(args[4]), let nUpdates = Int(args[5]) else {
            fail("usage: felix-bench NS FILE ENDPOINTS POLICIES UPDATES", status: 2)
        }
        var inputs = CalcInputs(nodeName: "node")
        // FELIX_BENCH_IPV6=0: IPv6Support false, as the IPv4 manifests in deploy/ set it.
        if env("FELIX_BENCH_IPV6") == "0" { inputs.config.ipv6 = false }
        for i in 0..<nEndpoints { let e = endpoint(i); inputs.endpoints[e.key] = e }
        for n in 0..<20 {
            inputs.profiles["kns.ns\(n)"] = Profile(name: "kns.ns\(n)", labels: ["pcns.projectcalico.org/name": "ns\(n)"],
                                                  ingress: [PolicyRule(action: .allow)], egress: [PolicyRule(action: .allow)])
        }
        for i in 0..<nPolicies { let p = policy(i); inputs.policies[p.key] = p }
        for s in 0..<50 {
            inputs.networkSets["gs\(s)"] = NetworkSetEntry(key: "gs\(s)", namespace: nil, labels: ["setname": "set\(s)"], profiles: [],
                                                          nets: (0..<20).map { net("172.\(16 + s % 16).\(s).\($0)/32") })
        }

        var t = now()
        var calc = PolicyCalculator(inputs: inputs)
        let calcNs = now() - t
        t = now()
        var renderer = IncrementalRenderer()
        let ruleset = renderer.render(calc.state).ruleset
        let renderNs = now() - t
        let counts = "rules=\(ruleset.ruleCount) sets=\(ruleset.sets.count) chains=\(ruleset.chains.count)"
        writeFile(args[2], NFTText.render(ruleset))

        // Optional so that the restart below runs with what a restarted felix holds, not two felixes.
        var programmer: NFTProgrammer! = try NFTProgrammer(namespace: NetNamespace.named(args[1]))
        // FELIX_BENCH_FULL_ECHO=1: the full program asks for every rule's echo too (to compare).
        let echoLimit = env("FELIX_BENCH_ECHO_LIMIT").flatMap(Int.init) ?? programmer.echoLimit
        programmer.echoLimit = env("FELIX_BENCH_FULL_ECHO") != nil ? Int.max : echoLimit
        try programmer.deleteTable()
        t = now()
        try programmer.apply(ruleset)
        let fullNs = now() - t
        let fullStats = programmer.lastStats
        programmer.echoLimit = echoLimit
        let rssAfterFull = peakRSSkB()
        if env("FELIX_BENCH_PROBE") != nil {
            print(try KernelProbe.run(programmer, ruleset).joined(separator: " "))
            return
        }

        // One changed policy at a time: calculation, incremental render, diff and one batch,
        // i.e. what felix does from an update event to the kernel's commit. Value-only: a
        // policy's port changes. Structural: a policy gains a rule (or loses it again).
        var samples: [UInt64] = [], renderSamples: [UInt64] = [], calcSamples: [UInt64] = []
        var structural: [UInt64] = [], valueMessages: [Int] = [], structuralRuleOps: [Int] = []
        // Per phase of the structural updates: calc, render, then the programmer's own split.
        var phases: [String: [UInt64]] = [:]
        var chainsRead = 0, echoed = 0
        // Updates of a policy that applies to no local endpoint commit nothing: they are counted,
        // not timed, so the figures are of changes that reach the kernel.
        var valueNoops = 0, structuralNoops = 0
        var extra = Set<Int>(), variants: [Int: Int] = [:], windows: [Int: Int] = [:]
        /// One policy update from the calculator to the kernel's commit: its start, the ends of
        /// calc and render, its end, the plan and the names the renderer said changed.
        func timedUpdate(_ policy: Policy) throws -> (start: UInt64, r0: UInt64, p0: UInt64, end: UInt64, plan: NFTPlan, changed: Set<String>?) {
            try timedUpdate(.policyUpdated(policy))
        }
        func timedUpdate(_ change: CalcChange) throws -> (start: UInt64, r0: UInt64, p0: UInt64, end: UInt64, plan: NFTPlan, changed: Set<String>?) {
            let start = now()
            calc.apply(change)
            let r0 = now()
            let (desired, changedNames) = renderer.render(calc.state)
            let p0 = now()
            let plan = try programmer.apply(desired, changed: changedNames, deltas: renderer.elementDeltas)
            return (start, r0, p0, now(), plan, changedNames)
        }
        /// The last apply's phases, for traces.
        func programmerPhases() -> String {
            let st = programmer.lastStats
            return format("read %.2f diff %.2f encode %.2f commit %.2f update %.2f",
                          ms(st.readNs), ms(st.diffNs), ms(st.encodeNs), ms(st.commitNs), ms(st.updateNs))
        }
        // Full renders of the dispatch chains per kind (the rest are set elements or places in place).
        var fullDispatch: [String: Int] = [:]
        var fullBefore = renderer.dispatchUpdates.full
        func countFull(_ kind: String) {
            fullDispatch[kind] = renderer.dispatchUpdates.full - fullBefore
            fullBefore = renderer.dispatchUpdates.full
        }
        // FELIX_BENCH_KINDS=<kinds, comma-separated>: only those kinds of update run (e.g. to
        // `perf record` one), the others count none.
        let kinds = env("FELIX_BENCH_KINDS").map { Set($0.split(separator: ",").map(String.init)) }
        func runs(_ kind: String) -> Int { kinds.map { $0.contains(kind) ? nUpdates : 0 } ?? nUpdates }
        for u in 0..<runs("value") {
            variants[u * 7 % nPolicies] = 1 + u % 3
            let (start, r0, p0, end, plan, changedNames) = try timedUpdate(policy(u * 7 % nPolicies, variant: 1 + u % 3))
            calcSamples.append(r0 - start)
            if plan.isEmpty {
                valueNoops += 1
                calcSamples.removeLast()
                continue
            }
            samples.append(end - start)
            renderSamples.append(p0 - r0)
            valueMessages.append(plan.addRules.count + plan.deleteRules.count + plan.addChains.count)
            if env("FELIX_BENCH_TRACE") != nil {
                print(format("value %.2f ms: ", ms(samples.last!)) + "\(plan.summary) changed=\(changedNames?.count ?? -1)")
            }
        }
        countFull("value")
        for u in 0..<runs("structural") {
            // Each policy twice in a row: it gains the rule, then loses it again (by the handle
            // the first commit learnt).
            let i = (u / 2) * 11 % nPolicies
            let adding = !extra.contains(i)
            if adding { extra.insert(i) } else { extra.remove(i) }
            let (start, r0, p0, end, plan, changedNames) = try timedUpdate(policy(i, variant: variants[i] ?? 0, extraRule: adding))
            if plan.isEmpty {
                structuralNoops += 1
                continue
            }
            structural.append(end - start)
            structuralRuleOps.append(plan.addRules.count + plan.deleteRules.count)
            let st = programmer.lastStats
            for (name, v) in [("calc", r0 - start), ("render", p0 - r0), ("read", st.readNs), ("diff", st.diffNs),
                              ("encode", st.encodeNs), ("commit", st.commitNs), ("update", st.updateNs)] {
                phases[name, default: []].append(v)
            }
            chainsRead += st.chainsRead
            echoed += st.rulesEchoed
            if env("FELIX_BENCH_TRACE") != nil {
                print(format("structural %.2f ms (calc %.2f render %.2f read %.2f diff %.2f encode %.2f commit %.2f update %.2f): ",
                             ms(end - start), ms(r0 - start), ms(p0 - r0), ms(st.readNs), ms(st.diffNs), ms(st.encodeNs),
                             ms(st.commitNs), ms(st.updateNs)) + "\(plan.summary) changed=\(changedNames?.count ?? -1)")
            }
        }
        countFull("structural")
        // Selector updates: a policy's selector changes so that it applies to a different,
        // overlapping set of local endpoints (its rules as they are now).
        var selectorSamples: [UInt64] = [], selectorRenderSamples: [UInt64] = [], selectorCommitSamples: [UInt64] = []
        var selectorRuleOps: [Int] = [], selectorNoops = 0
        for u in 0..<runs("selector") {
            let i = u * 13 % nPolicies
            let w = windows[i].map { $0 + 1 } ?? 0
            windows[i] = w
            let (start, r0, p0, end, plan, changedNames) = try timedUpdate(policy(i, variant: variants[i] ?? 0, extraRule: extra.contains(i),
                                                                                  window: w))
            if plan.isEmpty {
                selectorNoops += 1
                continue
            }
            selectorSamples.append(end - start)
            selectorRenderSamples.append(p0 - r0)
            selectorCommitSamples.append(programmer.lastStats.commitNs)
            selectorRuleOps.append(plan.addRules.count + plan.deleteRules.count + plan.addChains.count)
            if env("FELIX_BENCH_TRACE") != nil {
                print(format("selector %.2f ms (calc %.2f render %.2f ", ms(end - start), ms(r0 - start), ms(p0 - r0))
                      + programmerPhases() + "): \(plan.summary) changed=\(changedNames?.count ?? -1)")
            }
        }
        countFull("selector")
        // Create updates: a new policy on 10 local endpoints, deleted again by the next update.
        var createSamples: [UInt64] = [], createRenderSamples: [UInt64] = [], createRuleOps: [Int] = []
        for u in 0..<runs("create") {
            let policy = created(u / 2)
            let (start, r0, p0, end, plan, changedNames) = try timedUpdate(u % 2 == 0 ? .policyUpdated(policy) : .policyRemoved(policy.key))
            createSamples.append(end - start)
            createRenderSamples.append(p0 - r0)
            createRuleOps.append(plan.addRules.count + plan.deleteRules.count)
            if env("FELIX_BENCH_TRACE") != nil {
                print(format("create %.2f ms (calc %.2f render %.2f ", ms(end - start), ms(r0 - start), ms(p0 - r0))
                      + programmerPhases() + "): \(plan.summary) changed=\(changedNames?.count ?? -1)")
            }
        }
        countFull("create")
        // Pod updates: a pod of the next index arrives (its interface, its labels' memberships,
        // its addresses in selector sets), then leaves again with the next update.
        var podSamples: [UInt64] = [], podRenderSamples: [UInt64] = [], podCommitSamples: [UInt64] = [], podRuleOps: [Int] = []
        for u in 0..<runs("pod") {
            let pod = endpoint(nEndpoints + u / 2)
            let (start, r0, p0, end, plan, changedNames) = try timedUpdate(u % 2 == 0 ? .endpointUpdated(pod) : .endpointRemoved(key: pod.key))
            podSamples.append(end - start)
            podRenderSamples.append(p0 - r0)
            podCommitSamples.append(programmer.lastStats.commitNs)
            podRuleOps.append(plan.addRules.count + plan.deleteRules.count)
            if env("FELIX_BENCH_TRACE") != nil {
                print(format("pod %.2f ms (calc %.2f render %.2f ", ms(end - start), ms(r0 - start), ms(p0 - r0))
                      + programmerPhases() + "): \(plan.summary) changed=\(changedNames?.count ?? -1)")
            }
        }
        countFull("pod")
        podSamples.sort()
        podRenderSamples.sort()
        podCommitSamples.sort()
        createSamples.sort()
        createRenderSamples.sort()
        selectorSamples.sort()
        selectorRenderSamples.sort()
        selectorCommitSamples.sort()
        let rssAfterUpdates = peakRSSkB()
        samples.sort()
        renderSamples.sort()
        calcSamples.sort()
        structural.sort()
        func pct(_ s: [UInt64], _ p: Double) -> Double { s.isEmpty ? 0 : ms(s[min(s.count - 1, Int(Double(s.count) * p))]) }

        if renderer.ruleset != RulesetRenderer.render(calc.state) {
            fail("incremental render differs from a full render")
        }
        // The programmer's own view (echoed handles, no read back) must be the kernel's: every
        // chain it holds as read, every set and map.
        if let cached = programmer.cachedState {
            let kernel = try NFTProgrammer(namespace: NetNamespace.named(args[1])).readProgrammed()
            var known = cached.state, actual = kernel
            for name in cached.unreadChains { known.chains[name]?.rules = []; actual.chains[name]?.rules = [] }
            if known != actual {
                let wrong = kernel.chains.keys.filter { known.chains[$0] != actual.chains[$0] }.sorted()
                fail("programmer's state differs from the kernel's: chains \(wrong.prefix(5))")
            }
        }
        // A restarted felix: a new programmer reads the kernel and finds nothing to change.
        programmer = nil
        renderer = IncrementalRenderer()
        t = now()
        let fresh = try NFTProgrammer(namespace: NetNamespace.named(args[1]))
        let plan = try fresh.apply(RulesetRenderer.render(calc.state))
        let restartNs = now() - t

        print("endpoints=\(calc.state.endpoints.count) policies=\(calc.state.policies.count) \(counts)",
              format("calc_ms=%.1f render_ms=%.1f full_ms=%.1f", ms(calcNs), ms(renderNs), ms(fullNs)),
              format("update_median_ms=%.2f update_p99_ms=%.2f update_max_ms=%.2f", pct(samples, 0.5), pct(samples, 0.99), ms(samples.last ?? 0)),
              format("structural_median_ms=%.2f structural_p99_ms=%.2f", pct(structural, 0.5), pct(structural, 0.99)),
              format("selector_median_ms=%.2f selector_p99_ms=%.2f selector_render_median_ms=%.2f selector_commit_median_ms=%.2f",
                     pct(selectorSamples, 0.5), pct(selectorSamples, 0.99), pct(selectorRenderSamples, 0.5), pct(selectorCommitSamples, 0.5)),
              "selector_timed=\(selectorSamples.count)", "selector_noops=\(selectorNoops)", "selector_rule_ops=\(selectorRuleOps.reduce(0, +))",
              format("create_median_ms=%.2f create_p99_ms=%.2f create_render_median_ms=%.2f",
                     pct(createSamples, 0.5), pct(createSamples, 0.99), pct(createRenderSamples, 0.5)),
              "create_timed=\(createSamples.count)", "create_rule_ops=\(createRuleOps.reduce(0, +))",
              format("pod_median_ms=%.2f pod_p99_ms=%.2f pod_render_median_ms=%.2f pod_commit_median_ms=%.2f",
                     pct(podSamples, 0.5), pct(podSamples, 0.99), pct(podRenderSamples, 0.5), pct(podCommitSamples, 0.5)),
              "pod_timed=\(podSamples.count)", "pod_rule_ops=\(podRuleOps.reduce(0, +))",
              ["value", "structural", "selector", "create", "pod"].map { "\($0)_full_dispatch=\(fullDispatch[$0] ?? 0)" }.joined(separator: " "),
              "value_update_rule_ops=\(valueMessages.reduce(0, +))", "structural_rule_ops=\(structuralRuleOps.reduce(0, +))",
              "update_timed=\(samples.count)", "update_noops=\(valueNoops)", "structural_timed=\(structural.count)", "structural_noops=\(structuralNoops)",
              format("update_render_median_ms=%.2f update_calc_median_ms=%.2f", pct(renderSamples, 0.5), pct(calcSamples, 0.5)),
              "structural_chains_read=\(chainsRead)", "structural_rules_echoed=\(echoed)",
              phases.keys.sorted().map { "structural_\($0)_median_ms=" + format("%.3f", pct(phases[$0]!.sorted(), 0.5)) }.joined(separator: " "),
              format("full_commit_ms=%.1f full_encode_ms=%.1f full_diff_ms=%.1f", ms(fullStats.commitNs), ms(fullStats.encodeNs), ms(fullStats.diffNs)),
              "full_rules_echoed=\(fullStats.rulesEchoed)",
              format("restart_reconcile_ms=%.1f", ms(restartNs)), "restart_plan_messages=\(plan.messageCount)",
              "peak_rss_kb=\(peakRSSkB())", "peak_rss_after_full_kb=\(rssAfterFull)", "peak_rss_after_updates_kb=\(rssAfterUpdates)")
    }
}
