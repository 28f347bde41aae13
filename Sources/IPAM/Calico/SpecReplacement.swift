import Core

extension SpecResource {
    /// The object for a write whose spec is exactly the typed one. A typed write is laid over
    /// the object as read, which keeps keys the typed value dropped; for IPAM that would bring
    /// back a released ordinal's sequence number or a handle's emptied block count. The IPAM
    /// types model every field of their spec, so nothing else is lost.
    var replacingSpec: Self {
        var copy = self
        copy.raw?["spec"] = nil
        return copy
    }
}
