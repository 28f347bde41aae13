/// Why install-cni stopped; each names the setting or file to fix.
public enum InstallError: Error, Equatable, CustomStringConvertible {
    case invalidSetting(String, String)
    case unreadable(String, String)
    case invalidTemplate(String)
    case io(String, String)

    public var description: String {
        switch self {
        case .invalidSetting(let name, let why): return "install-cni: \(name): \(why)"
        case .unreadable(let path, let why): return "install-cni: cannot read \(path): \(why)"
        case .invalidTemplate(let why): return "install-cni: the network config (CNI_NETWORK_CONFIG or the built-in template) \(why)"
        case .io(let path, let why): return "install-cni: cannot write \(path): \(why)"
        }
    }
}
