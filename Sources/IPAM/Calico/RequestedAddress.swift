import Core

/// Assigning specific addresses (CNI_ARGS `IP=`, which the calico plugin sets from the pod's
/// `cni.projectcalico.org/ipAddrs` annotation): the address must lie in an IPPool; its block
/// is claimed for this node if nobody has it yet, else the address is taken in whichever
/// node's block holds it.
extension CalicoIPAM {
    func assignRequested(_ request: AssignRequest, pools: [IPPool]) async throws -> [IPNet] {
        var out: [IPNet] = []
        do {
            for ip in request.requestedIPs {
                out.append(try await assignRequested(ip, request, pools: pools))
            }
        } catch {
            if !out.isEmpty { _ = try? await release(handle: request.handleID) }
            throw error
        }
        return out
    }

    private func assignRequested(_ ip: IPNet, _ request: AssignRequest, pools: [IPPool]) async throws -> IPNet {
        let address = IPNet(bytes: ip.bytes, prefixLength: ip.bytes.count * 8)!
        guard let pool = pools.first(where: { IPNet(parsing: $0.spec.cidr)?.contains(address) == true }),
              let poolNet = IPNet(parsing: pool.spec.cidr) else {
            throw IPAMError.addressNotInPool(address: address.addressText)
        }
        let usable = try PoolSelection.usablePool(pool, poolNet)
        let cidr = IPAMAddressMath.enclosingBlock(of: address, blockSize: usable.blockSize)
        let ordinal = IPAMAddressMath.ordinal(of: address, in: cidr)!
        let attribute = IPAMBlockSpec.Attribute(handleID: request.handleID, secondary: stamped(request.attributes, node: request.node))

        var block = try await getBlock(cidr)
        if block == nil {
            if case .claimed(let claimed) = try await claim(cidr, node: request.node) { block = claimed } else { block = try await getBlock(cidr) }
        }
        guard var current = block else {
            throw IPAMError.tooMuchContention(what: "claiming block \(cidr) for \(address.addressText)", attempts: 1)
        }
        try await adjustHandle(request.handleID, block: cidr, by: 1)
        do {
            for _ in 0..<maxAttempts {
                var updated = current
                guard updated.spec.allocate(ordinal: ordinal, attribute: attribute) else {
                    throw IPAMError.addressUnavailable(address: address.addressText, reason: "is already in use")
                }
                do {
                    _ = try await api.update(updated.replacingSpec)
                    return address
                } catch KubeError.conflict {
                    guard let again = try await getBlock(cidr) else { break }
                    current = again
                }
            }
            throw IPAMError.tooMuchContention(what: "assigning \(address.addressText)", attempts: maxAttempts)
        } catch {
            try? await adjustHandle(request.handleID, block: cidr, by: -1)
            throw Self.datastore("update IPAMBlock \(IPAMNames.blockName(cidr))", error)
        }
    }
}
