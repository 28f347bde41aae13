import ArgumentParser
import Foundation

// kubelet execs the CNI plugin by file name: a link named `calico` is the CNI plugin and one
// named `calico-ipam` the IPAM plugin; anything else is the calico-node command line.
let invokedAs = URL(fileURLWithPath: CommandLine.arguments.first ?? "calico-node").lastPathComponent
let rest = Array(CommandLine.arguments.dropFirst())
let arguments: [String]
switch invokedAs {
case "calico": arguments = ["cni"] + rest
case "calico-ipam": arguments = ["ipam"] + rest
default: arguments = rest
}

// Parsed and run by hand: ArgumentParser's async entry point refuses a root command on Linux
// without Apple availability annotations, so async subcommands adopt our AsyncRunnable instead.
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
