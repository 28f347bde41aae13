import Core

extension FelixBench {
    /// `create` updates: a policy that did not exist, on one app of its namespace (10 local
    /// endpoints), its order between those of the others so that its places open mid-chain.
    static func created(_ u: Int) -> Policy {
        let i = u * 13 % 500
        var p = policy(i)
        let ns = p.key.namespace ?? "ns0"
        p.key = PolicyKey(namespace: ns, name: "new\(u)")
        p.order = Double(u % 10) * 100 + 50
        // Namespace ns holds the apps a with a % 10 == ns % 10 (10 endpoints each).
        p.selector = .allOf([sel("app == 'app\(i % 10 + 10 * (u % 5))'"), .equals("projectcalico.org/namespace", ns)])
        return p
    }
}
