/// Which plugin an invocation is, when it is one: CNI plugins are run with no arguments, by the
/// name of the link (`calico`, `calico-ipam`) or as `calico-node cni` / `calico-node ipam`.
enum PluginRole: Equatable {
    case cni
    case ipam

    init?(invokedAs: String, arguments: [String]) {
        switch (invokedAs, arguments) {
        case ("calico", []), (_, ["cni"]): self = .cni
        case ("calico-ipam", []), (_, ["ipam"]): self = .ipam
        default: return nil
        }
    }
}
