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
        try await ensurePendingAffinity(affinityName, cidr: cidr, node: node)

        let mine = IPAMNames.hostAffinity(node)
        var spec = IPAMBlockSpec.empty(cidr: cidr, affinity: mine)
        spec.affinityClaimTime = ISO8601DateFormatter().string(from: now())
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
        try await setAffinityState(affinityName, "confirmed")
        return .claimed(block)
    }

    private func ensurePendingAffinity(_ name: String, cidr: IPNet, node: String) async throws {
        let affinity = BlockAffinity(metadata: ObjectMeta(name: name),
                                     spec: BlockAffinitySpec(state: "pending", node: node, cidr: cidr.description))
        do {
            _ = try await api.create(affinity)
        } catch KubeError.conflict {
            // Left by an earlier attempt of this node: make it pending again if it was going away.
            let current = try await call("get BlockAffinity \(name)") { try await api.get(BlockAffinity.self, name: name, namespace: nil) }
            if current.spec.state == "pendingDeletion" || current.spec.isDeleted {
                try await setAffinityState(name, "pending")
            }
        } catch {
            throw Self.datastore("create BlockAffinity \(name)", error)
        }
    }

    func setAffinityState(_ name: String, _ state: String) async throws {
        for _ in 0..<maxAttempts {
            var current = try await call("get BlockAffinity \(name)") { try await api.get(BlockAffinity.self, name: name, namespace: nil) }
            if current.spec.state == state && !current.spec.isDeleted { return }
            current.spec.state = state
            current.spec.deleted = "false"
            do {
                _ = try await api.update(current)
                return
            } catch KubeError.conflict {
                continue
            } catch {
                throw Self.datastore("update BlockAffinity \(name)", error)
            }
        }
        throw IPAMError.tooMuchContention(what: "updating BlockAffinity \(name)", attempts: maxAttempts)
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
