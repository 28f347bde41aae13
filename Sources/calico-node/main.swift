import ArgumentParser

// kubelet execs the CNI plugin by file name: a link named `calico` is the CNI plugin and one
// named `calico-ipam` the IPAM plugin; anything else is the calico-node command line.
let invokedAs = CommandLine.arguments.first.map { String($0.split(separator: "/").last ?? "") } ?? "calico-node"
let rest = Array(CommandLine.arguments.dropFirst())

// The plugins start straight away: every pod start pays for their process start, and the
// command-line parser's reflection over every subcommand cost milliseconds of it. Anything
// with arguments (`calico-node cni --help`) still goes through the parser below.
// main stays synchronous (BlockingEntry says why); the plugins end the process themselves.
switch PluginRole(invokedAs: invokedAs, arguments: rest) {
case .cni?: BlockingEntry.run { await CNICommand.runPlugin() }
case .ipam?: BlockingEntry.run { await IPAMCommand.runPlugin() }
case nil: break
}

let arguments: [String]
switch invokedAs {
case "calico": arguments = ["cni"] + rest
case "calico-ipam": arguments = ["ipam"] + rest
default: arguments = rest
}

// Parsed and run by hand: ArgumentParser's async entry point refuses a root command on Linux
// without Apple availability annotations, so async subcommands adopt our AsyncRunnable instead.
BlockingEntry.run { [arguments] in
    do {
        var command = try CalicoNode.parseAsRoot(arguments)
        if let asyncCommand = command as? AsyncRunnable {
            try await asyncCommand.runAsync()
        } else {
            try command.run()
        }
    } catch {
        CalicoNode.exit(withError: error)
    }
}
