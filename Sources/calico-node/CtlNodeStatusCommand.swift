import ArgumentParser
import Core
import Foundation
import Routing

/// `calico-node ctl node status`: the BGP peer table of the calico-node on this host, read from
/// its health server's GET /bgp/peers, printed as calicoctl prints it.
struct CtlNodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Commands about the calico-node on this host.",
        subcommands: [CtlNodeStatusCommand.self]
    )
}

struct CtlNodeStatusCommand: AsyncRunnable {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Print the BGP peer table (peer address, type, state, since, info)."
    )

    @Option(help: "HOST:PORT of the calico-node health server.")
    var healthAddress: String = ObservabilityAddress.defaultHealth.description

    @Option(name: [.short, .customLong("output")], help: "table (calicoctl's) or json.")
    var output: String = "table"

    func runAsync() async throws {
        let address = try BGPCommand.address(healthAddress, "--health-address")
        let url = "http://\(address)/bgp/peers"
        let body: Data
        do {
            body = try Self.get(address)
        } catch {
            print("Calico process is not running.")
            throw ExitCode(1)
        }
        let table: BGPPeerTable
        do {
            table = try JSONDecoder().decode(BGPPeerTable.self, from: body)
        } catch {
            throw ValidationError("\(url) did not answer with a BGP peer table (is the BGP role running?): \(error)")
        }
        if output == "json" {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try e.encode(table), as: UTF8.self))
        } else {
            print(table.render(), terminator: "")
        }
    }

    /// GET /bgp/peers on loopback (the health probe's plain socket: no libcurl, no
    /// FoundationNetworking); any failure or non-200 status is an error.
    static func get(_ address: ObservabilityAddress) throws -> Data {
        let response = try CheckHTTPGet.get(address, path: "/bgp/peers", timeout: 5)
        guard response.status == 200 else { throw ValidationError("http://\(address)/bgp/peers: HTTP \(response.status)") }
        return Data(response.body)
    }
}
