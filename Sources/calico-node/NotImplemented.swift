import ArgumentParser

/// The exit for a role whose issue has not landed yet: a clear message and status 2, never a trap.
struct NotImplementedYet: Error, CustomStringConvertible {
    var role: String
    var description: String { "calico-node \(role): not implemented yet" }
}

extension ParsableCommand {
    func notImplemented(_ role: String) throws -> Never {
        throw NotImplementedYet(role: role)
    }
}
