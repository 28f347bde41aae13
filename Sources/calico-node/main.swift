import ArgumentParser
import Foundation

// kubelet execs the CNI plugin by file name: a link named `calico` is the CNI plugin and one
// named `calico-ipam` the IPAM plugin; anything else is the calico-node command line.
let invokedAs = URL(fileURLWithPath: CommandLine.arguments.first ?? "calico-node").lastPathComponent
let rest = Array(CommandLine.arguments.dropFirst())
switch invokedAs {
case "calico":
    CalicoNode.main(["cni"] + rest)
case "calico-ipam":
    CalicoNode.main(["ipam"] + rest)
default:
    CalicoNode.main(rest)
}
