import Core
import Foundation

/// Claiming a free block for a node: create its BlockAffinity (pending), then create the
/// IPAMBlock with the node's affinity (the create is the atomic claim: of two nodes after
/// one block only one create succeeds), then confirm the affinity. The loser removes its
/// pending affinity and looks again.
extension CalicoIPAM {
    enum ClaimOutcome: Sendable {
        case claimed(IPAMBlock)
        /// Another writer took the block first; list again.
        case raced
        /// Every block of every pool exists already.
        case noneLeft
    }

    func claimBlock(pools: [UsablePool], existing: Set<IPNet>, node: String) async throws -> ClaimOutcome {
        for pool in pools {
            guard let cidr = Self.firstUnclaimed(in: pool, existing: existing) else { continue }
            return try await claim(cidr, node: node)
        }
        return .noneLeft
    }

    /// The first block of `pool` (in address order) that has no IPAMBlock yet.
    static func firstUnclaimed(in pool: UsablePool, existing: Set<IPNet>) -> IPNet? {
        let count = IPAMAddressMath.blockCount(ofSize: pool.blockSize, in: pool.cidr)
        var index: UInt128 = 0
        // Each existing block is skipped at most once, so this ends within existing.count + 1 steps.
        while index < count {
            guard let block = IPAMAddressMath.block(index, ofSize: pool.blockSize, in: pool.cidr) else { return nil }
            if !existing.contains(block) { return block }
            index += 1
        }
        return nil
    }

    func claim(_ cidr: IPNet, node: String) async throws -> ClaimOutcome {
        let affinityName = IPAMNames.affinityName(node: node, cidr: cidr)
        try await ensureAffinity(affinityName, cidr: cidr, node: node, state: "pending")

        let mine = IPAMNames.hostAffinity(node)
        var spec = IPAMBlockSpec.empty(cidr: cidr, affinity: mine)
        spec.affinityClaimTime = IPAMTimestamp.string(from: now())
        let block: IPAMBlock
        do {
            block = try await api.create(IPAMBlock(metadata: ObjectMeta(name: IPAMNames.blockName(cidr)), spec: spec))
        } catch KubeError.conflict {
            let winner = try await call("get IPAMBlock \(IPAMNames.blockName(cidr))") {
                try await api.get(IPAMBlock.self, name: IPAMNames.blockName(cidr), namespace: nil)
            }
            guard winner.spec.affinity == mine else {
                try await deleteAffinity(affinityName)
                return .raced
            }
            // Ours from an earlier claim that stopped before confirming.
            block = winner
        } catch {
            throw Self.datastore("create IPAMBlock \(IPAMNames.blockName(cidr))", error)
        }
        try await ensureAffinity(affinityName, cidr: cidr, node: node, state: "confirmed")
        return .claimed(block)
    }

    /// Makes the node's affinity for `cidr` exist with `state`: created, or (left by an earlier
    /// attempt, or made by a concurrent run on this node) updated; one that disappears under us
    /// is created again.
    func ensureAffinity(_ name: String, cidr: IPNet, node: String, state: String) async throws {
        for _ in 0..<maxAttempts {
            let fresh = BlockAffinity(metadata: ObjectMeta(name: name),
                                      spec: BlockAffinitySpec(state: state, node: node, cidr: cidr.description))
            do {
                _ = try await api.create(fresh)
                return
            } catch KubeError.conflict {
            } catch {
                throw Self.datastore("create BlockAffinity \(name)", error)
            }
            var current: BlockAffinity
            do {
                current = try await api.get(BlockAffinity.self, name: name, namespace: nil)
            } catch KubeError.notFound {
                continue
            } catch {
                throw Self.datastore("get BlockAffinity \(name)", error)
            }
            // A confirmed affinity stays confirmed when asked for pending (a concurrent claim won).
            if (current.spec.state == state || (state == "pending" && current.spec.state == "confirmed")) && !current.spec.isDeleted {
                return
            }
            current.spec.state = state
            current.spec.deleted = "false"
            do {
                _ = try await api.update(current.replacingSpec)
                return
            } catch KubeError.conflict, KubeError.notFound {
                continue
            } catch {
                throw Self.datastore("update BlockAffinity \(name)", error)
            }
        }
        throw IPAMError.tooMuchContention(what: "writing BlockAffinity \(name)", attempts: maxAttempts)
    }

    func deleteAffinity(_ name: String) async throws {
        do {
            try await api.delete(BlockAffinity.self, name: name, namespace: nil)
        } catch KubeError.notFound {
            return
        } catch {
            throw Self.datastore("delete BlockAffinity \(name)", error)
        }
    }
}
