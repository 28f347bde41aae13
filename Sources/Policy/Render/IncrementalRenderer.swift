import Core

/// `RulesetRenderer.render` one change at a time: keeps the last state and its ruleset, and
/// re-renders only the policies, profiles and IP sets that differ, and the dispatch chains and
/// their interface sets when an endpoint's plan changed (or only the elements of the `ep-*`
/// sets when endpoints merely gained or lost policies, with the two rules of each tier or
/// policy that came into force or went out of it inserted or removed in place: `DispatchIndex`),
/// and the own chains and map elements of endpoints that came or went, naming the chains, sets
/// and maps that may have changed so the differ can skip the rest.
///
/// Which keys differ comes from the calculator's journal when the state is a later revision of
/// the one rendered last (O(changed)), else from comparing the two states (O(all)). The last
/// state is kept as a copy of its own, updated key by key, so that it never shares storage
/// with the calculator's (whose next write would then copy whole dictionaries).
///
/// Invariant (tested): `render(s).ruleset == RulesetRenderer.render(s)` for any sequence of states.
public struct IncrementalRenderer: Sendable {
    public private(set) var ruleset = NFTRuleset(table: RenderNames.table, family: .inet)
    private var last: DataplaneState?
    /// The journal revision `last` stands for (nil: unknown, compare in full).
    private var lastRevision: UInt64?
    /// Names of the pieces each policy or profile chain brought (the chain and its value sets),
    /// and those of the dispatch (shared chains and sets).
    private var owned: [String: [String]] = [:]
    private var dispatchNames: Set<String> = []
    /// The dispatch's policy slots, when a change of memberships alone can be set elements.
    private var dispatchIndex: DispatchIndex?
    /// How often the dispatch changed as set elements only, as places opened or closed in place
    /// (and elements), and how often it was rendered anew (after the first render): which path
    /// changes took.
    private(set) var dispatchUpdates = (elements: 0, places: 0, full: 0)
    /// The elements the last `render` added to and removed from sets it edited in place (a
    /// subset of its changed names: sets it replaced or made are not here), and the interfaces
    /// whose elements came into or left the dispatch maps, for the differ.
    public private(set) var elementDeltas: [String: NFTSetDelta] = [:]
    /// During a render: sets edited element by element, and those replaced whole.
    private var edited: [String: NFTSetDelta] = [:]
    private var replaced: Set<String> = []

    public init() {}

    /// The ruleset for `state`, and the names of the chains, sets and maps that differ from the
    /// previous call's ruleset (nil: treat everything as changed).
    public mutating func render(_ state: DataplaneState) -> (ruleset: NFTRuleset, changed: Set<String>?) {
        edited = [:]
        replaced = []
        defer {
            elementDeltas = edited.filter { !replaced.contains($0.key) }
            edited = [:]
            replaced = []
        }
        guard var old = last, old.config == state.config else {
            renderAll(state)
            return (ruleset, nil)
        }
        last = nil  // `old` is the only reference: updated in place below
        let keys = lastRevision.flatMap { state.journal.changes(since: $0) } ?? Self.differences(old, state)
        var changed = Set<String>()
        let rules = RuleRenderer(ipv6: state.config.ipv6)

        // IP sets: a set that stayed changes by its members' comings and goings, journalled.
        for id in keys.ipSets {
            let before = old.ipSets[id], after = state.ipSets[id]
            if before != nil, after != nil, !keys.wholeSets.contains(id) {
                if id.isNamedPort {
                    if let delta = keys.portDeltas[id] { editPorts(id, delta, old: &old, changed: &changed) }
                } else if let delta = keys.netDeltas[id] {
                    editNets(id, delta, old: &old, changed: &changed)
                }
                continue
            }
            guard before != after else { continue }
            for set in before.map({ RulesetRenderer.ipSets(id, $0, ipv6: state.config.ipv6) }) ?? [] {
                ruleset.sets[set.name] = nil
                changed.insert(set.name)
                replaced.insert(set.name)
            }
            for set in after.map({ RulesetRenderer.ipSets(id, $0, ipv6: state.config.ipv6) }) ?? [] {
                ruleset.add(set)
                changed.insert(set.name)
                replaced.insert(set.name)
            }
            old.ipSets[id] = after
        }

        var movedEndpoints: [(before: EndpointPlan?, after: EndpointPlan?)] = []
        for iface in keys.endpoints {
            let before = old.endpoints[iface], after = state.endpoints[iface]
            guard before != after else { continue }
            movedEndpoints.append((before, after))
            old.endpoints[iface] = after
        }
        // The dispatch merges policies in their order: one moving reorders the slots.
        let orderMoved = keys.policies.contains { key in
            guard let before = old.policies[key], let after = state.policies[key] else { return false }
            return before.order != after.order
        }
        if !movedEndpoints.isEmpty || orderMoved {
            var index = orderMoved ? nil : dispatchIndex
            dispatchIndex = nil  // `index` alone holds it: updated in place
            if let update = index?.update(movedEndpoints, policies: state.policies), apply(update, changed: &changed) {
                dispatchIndex = index
                if update.edits.isEmpty { dispatchUpdates.elements += 1 } else { dispatchUpdates.places += 1 }
            } else {
                renderDispatch(state, changed: &changed)
                dispatchUpdates.full += 1
            }
        }
        // An endpoint's own chains and map elements follow its interface alone.
        for (before, after) in movedEndpoints where (before == nil) != (after == nil) {
            let iface = (before ?? after)!.interfaceName
            for ingress in [true, false] {
                let name = RenderNames.endpointChain(iface, ingress: ingress), map = RenderNames.dispatchMap(ingress: ingress)
                ruleset.chains[name] = after.map { _ in RulesetRenderer.endpointChain(iface, ingress: ingress) }
                ruleset.maps[map]?.elements[iface] = after.map { _ in .jump(name) }
                // The differ's delta for the map: the interface whose element came or went.
                if after != nil { edited[map, default: NFTSetDelta()].insert(.ifname(iface)) }
                else { edited[map, default: NFTSetDelta()].remove(.ifname(iface)) }
                changed.insert(name)
                changed.insert(map)
            }
        }

        for key in keys.policies {
            let before = old.policies[key], after = state.policies[key]
            guard before != after else { continue }
            let owner = RenderNames.policyChain(key, ingress: true)
            replace(owner: owner, with: after.map { RulesetRenderer.policyChains(key, $0, rules) } ?? [], changed: &changed)
            old.policies[key] = after
        }
        for name in keys.profiles {
            let before = old.profiles[name], after = state.profiles[name]
            guard before != after else { continue }
            let owner = RenderNames.profileChain(name, ingress: true)
            replace(owner: owner, with: after.map { RulesetRenderer.profileChains(name, $0, rules) } ?? [], changed: &changed)
            old.profiles[name] = after
        }
        last = old
        lastRevision = state.journal.latest
        return (ruleset, changed)
    }

    /// Endpoints only changed which policies they go through: the places that opened or closed,
    /// then interface-set elements. False when a place is not where the index says (then the
    /// dispatch must be rendered in full, which replaces whatever was edited here).
    private mutating func apply(_ update: DispatchIndex.Update, changed: inout Set<String>) -> Bool {
        for edit in update.edits {
            let chain = RenderNames.dispatchChain(ingress: edit.ingress), set = edit.place.set(ingress: edit.ingress)
            let rules = RulesetRenderer.placeRules(edit.place, ingress: edit.ingress)
            guard let count = ruleset.chains[chain]?.rules.count, edit.rule + (edit.open ? 0 : rules.count) <= count else { return false }
            changed.insert(chain)
            changed.insert(set)
            replaced.insert(set)
            if edit.open {
                ruleset.chains[chain]?.rules.insert(contentsOf: rules, at: edit.rule)
                ruleset.add(NFTSet(name: set, type: .ifname))
                dispatchNames.insert(set)
            } else {
                guard ruleset.chains[chain]?.rules[edit.rule..<edit.rule + rules.count].elementsEqual(rules) == true else { return false }
                ruleset.chains[chain]?.rules.removeSubrange(edit.rule..<edit.rule + rules.count)
                ruleset.sets[set] = nil
                dispatchNames.remove(set)
            }
        }
        for move in update.moves { editElement(move.set, .ifname(move.interface), add: move.add, changed: &changed) }
        return true
    }

    /// The dispatch chains and sets rendered anew (those that differ replaced).
    private mutating func renderDispatch(_ state: DataplaneState, changed: inout Set<String>) {
        let dispatch = RulesetRenderer.dispatchIndexed(state)
        dispatchIndex = dispatch.index
        var names = Set<String>()
        for chain in dispatch.chains {
            names.insert(chain.name)
            if ruleset.chains[chain.name] != chain { ruleset.add(chain); changed.insert(chain.name) }
        }
        for set in dispatch.sets {
            names.insert(set.name)
            if ruleset.sets[set.name] != set { ruleset.add(set); changed.insert(set.name); replaced.insert(set.name) }
        }
        for gone in dispatchNames.subtracting(names) {
            ruleset.sets[gone] = nil
            changed.insert(gone)
            replaced.insert(gone)
        }
        dispatchNames = names
    }

    /// A selector set's addresses as they came and went: edited in the ruleset (and in `old`,
    /// which keeps storage of its own) element by element, O(changed) instead of rendering and
    /// comparing both versions of the set.
    private mutating func editNets(_ id: IPSetID, _ delta: MemberDelta<IPNet>, old: inout DataplaneState, changed: inout Set<String>) {
        old.ipSets[id]?.nets.subtract(delta.removed)
        old.ipSets[id]?.nets.formUnion(delta.added)
        for net in delta.removed { edit(RenderNames.selectorSet(id, ipv6: net.isIPv6), remove: net, changed: &changed) }
        for net in delta.added { edit(RenderNames.selectorSet(id, ipv6: net.isIPv6), add: net, changed: &changed) }
    }

    /// The same for a named-port set: each member is an address and a port in its version's set.
    private mutating func editPorts(_ id: IPSetID, _ delta: MemberDelta<IPPortMember>, old: inout DataplaneState,
                                    changed: inout Set<String>) {
        old.ipSets[id]?.ports.subtract(delta.removed)
        old.ipSets[id]?.ports.formUnion(delta.added)
        for (members, add) in [(delta.removed, false), (delta.added, true)] {
            for member in members {
                let v6 = member.address.isIPv6
                guard let element = RulesetRenderer.namedPortElement(id, member, ipv6: v6) else { continue }
                let name = RenderNames.namedPortSet(id, ipv6: v6)
                guard ruleset.sets[name] != nil else { continue }
                editElement(name, element, add: add, changed: &changed)
            }
        }
    }

    /// One element into or out of a set whose kind it does not change, recorded for the differ.
    private mutating func editElement(_ name: String, _ element: NFTSetElement, add: Bool, changed: inout Set<String>) {
        if add {
            ruleset.sets[name]?.elements.insert(element)
            edited[name, default: NFTSetDelta()].insert(element)
        } else {
            ruleset.sets[name]?.elements.remove(element)
            edited[name, default: NFTSetDelta()].remove(element)
        }
        changed.insert(name)
    }

    /// One address into or out of one address set, recorded for the differ. A CIDR coming into
    /// a hash set, or the last one leaving an interval set, changes the set's kind
    /// (`RulesetRenderer.addressSet`): then it is replaced, not edited.
    private mutating func edit(_ name: String, add net: IPNet? = nil, remove gone: IPNet? = nil, changed: inout Set<String>) {
        guard var set = ruleset.sets.removeValue(forKey: name) else { return }
        var delta = edited.removeValue(forKey: name) ?? NFTSetDelta()
        if let gone {
            set.elements.remove(.net(gone))
            delta.remove(.net(gone))
            if set.interval, !gone.isSingleAddress,
               !set.elements.contains(where: { if case .net(let n) = $0 { return !n.isSingleAddress } else { return false } }) {
                set.interval = false
                replaced.insert(name)
            }
        }
        if let net {
            set.elements.insert(.net(net))
            delta.insert(.net(net))
            if !set.interval, !net.isSingleAddress {
                set.interval = true
                replaced.insert(name)
            }
        }
        ruleset.sets[name] = set
        edited[name] = delta
        changed.insert(name)
    }

    /// The keys whose values differ between two states, found by comparing every one.
    private static func differences(_ old: DataplaneState, _ new: DataplaneState) -> DataplaneChanges {
        func differing<K: Hashable, V: Equatable>(_ a: [K: V], _ b: [K: V]) -> Set<K> {
            guard a != b else { return [] }
            return Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }
        }
        let ipSets = differing(old.ipSets, new.ipSets)
        return DataplaneChanges(endpoints: differing(old.endpoints, new.endpoints), policies: differing(old.policies, new.policies),
                                profiles: differing(old.profiles, new.profiles), ipSets: ipSets, wholeSets: ipSets,
                                config: old.config != new.config)
    }

    private mutating func renderAll(_ state: DataplaneState) {
        (ruleset, owned, dispatchNames, dispatchIndex) = RulesetRenderer.renderNamingPieces(state)
        last = state
        last?.journal = DataplaneJournal()  // the calculator's alone: no copy when it next records
        lastRevision = state.journal.latest
    }

    /// Replaces the pieces of one policy or profile; names what was removed or differs.
    private mutating func replace(owner: String, with pieces: [RulesetRenderer.ChainPiece], changed: inout Set<String>) {
        let fresh = Set(pieces.map(\.name))
        for name in owned[owner] ?? [] where !fresh.contains(name) {
            ruleset.chains[name] = nil
            ruleset.sets[name] = nil
            changed.insert(name)
            replaced.insert(name)
        }
        for piece in pieces {
            switch piece {
            case .chain(let c): if ruleset.chains[c.name] != c { ruleset.add(c); changed.insert(c.name) }
            case .set(let s): if ruleset.sets[s.name] != s { ruleset.add(s); changed.insert(s.name); replaced.insert(s.name) }
            }
        }
        owned[owner] = pieces.isEmpty ? nil : pieces.map(\.name)
    }
}
