import Core

/// Looking up and releasing addresses by handle, and garbage collection.
extension CalicoIPAM {
    /// The addresses `handle` holds, read from the blocks its IPAMHandle names.
    public func addresses(handle: String) async throws -> [IPNet] {
        guard let h = try await getHandle(handle) else { return [] }
        var out: [IPNet] = []
        for cidr in h.spec.block.keys.sorted() {
            guard let net = IPNet(parsing: cidr), let block = try await getBlock(net) else { continue }
            out += block.spec.ordinals(of: handle).map { IPAMAddressMath.address(in: net, ordinal: $0) }
        }
        return out.sorted()
    }

    /// Frees every address of `handle` and deletes the handle. Idempotent: an unknown handle
    /// releases nothing and succeeds. Returns the freed addresses.
    @discardableResult
    public func release(handle: String) async throws -> [IPNet] {
        guard let h = try await getHandle(handle) else { return [] }
        var freed: [IPNet] = []
        for cidr in h.spec.block.keys.sorted() {
            guard let net = IPNet(parsing: cidr) else { continue }
            freed += try await release(handle: handle, in: net)
        }
        do {
            try await api.delete(IPAMHandle.self, name: handle, namespace: nil)
        } catch KubeError.notFound {
        } catch {
            throw Self.datastore("delete IPAMHandle \(handle)", error)
        }
        return freed.sorted()
    }

    private func release(handle: String, in net: IPNet) async throws -> [IPNet] {
        for _ in 0..<maxAttempts {
            guard var block = try await getBlock(net) else { return [] }
            let ordinals = block.spec.release(handle: handle)
            guard !ordinals.isEmpty else { return [] }
            do {
                _ = try await api.update(block.replacingSpec)
                return ordinals.map { IPAMAddressMath.address(in: net, ordinal: $0) }
            } catch KubeError.conflict {
                continue
            } catch KubeError.notFound {
                return []
            } catch {
                throw Self.datastore("update IPAMBlock \(block.metadata.name)", error)
            }
        }
        throw IPAMError.tooMuchContention(what: "releasing \(handle) in block \(net)", attempts: maxAttempts)
    }

    /// CNI GC: releases every handle with `prefix` whose addresses on `node` belong to a
    /// container the runtime no longer lists. Returns the released handles.
    public func garbageCollect(node: String, prefix: String, keepContainerIDs: Set<String>) async throws -> [String] {
        let blocks = try await call("list IPAMBlocks") { try await api.list(IPAMBlock.self).items }
        var stale = Set<String>()
        for block in blocks {
            for a in Set(block.spec.allocations.compactMap { $0 }) where block.spec.attributes.indices.contains(a) {
                let attr = block.spec.attributes[a]
                guard let h = attr.handleID, h.hasPrefix(prefix), attr.secondary?["node"] == node else { continue }
                if !keepContainerIDs.contains(String(h.dropFirst(prefix.count))) { stale.insert(h) }
            }
        }
        for h in stale.sorted() { try await release(handle: h) }
        return stale.sorted()
    }

    func getHandle(_ name: String) async throws -> IPAMHandle? {
        do {
            return try await api.get(IPAMHandle.self, name: name, namespace: nil)
        } catch KubeError.notFound {
            return nil
        } catch {
            throw Self.datastore("get IPAMHandle \(name)", error)
        }
    }

    func getBlock(_ net: IPNet) async throws -> IPAMBlock? {
        do {
            return try await api.get(IPAMBlock.self, name: IPAMNames.blockName(net), namespace: nil)
        } catch KubeError.notFound {
            return nil
        } catch {
            throw Self.datastore("get IPAMBlock \(IPAMNames.blockName(net))", error)
        }
    }
}
