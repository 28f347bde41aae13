import ArgumentParser
import Core
import Foundation
import Policy

/// `ctl endpoint`: one pod's endpoint as felix on its node programs it, computed by felix's own
/// conversion, calculation and renderer over what the API holds now.
struct CtlEndpointCommand: AsyncRunnable {
    static let configuration = CommandConfiguration(
        commandName: "endpoint",
        abstract: "Show the policies and profiles a pod's endpoint goes through, in order, and the nftables rules that apply to it.",
        discussion: """
        Per direction: the tiers and their policies in evaluation order, the profiles, the rules \
        of the shared chain (cali-to-wl or cali-from-wl) whose interface sets hold the pod's \
        interface, then the rules of the pod's own chain (cali-tw-<iface> or cali-fw-<iface>), \
        which give its verdict and count it (on the node: nft list chain inet calico \
        cali-tw-<iface>). Exits 2 when the pod is not \
        found, not scheduled, or not an endpoint felix programs (no address yet).
        """
    )

    enum Output: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Argument(help: "The pod as NAMESPACE/NAME.") var pod: String
    @Option(name: [.short, .customLong("output")], help: "Output format: text or json.") var output: Output = .text

    func runAsync() async throws {
        let snapshot = try await ExplainSnapshot.loadWarning()
        do {
            let view = try snapshot.endpointView(pod)
            if output == .json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(view), as: UTF8.self))
            } else {
                print(view.text, terminator: "")
            }
        } catch let error as ExplainError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}
