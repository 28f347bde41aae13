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
        let host = address.host.contains(":") ? "[\(address.host)]" : address.host
        let url = "http://\(host):\(address.port)/bgp/peers"
        let body: Data
        do {
            body = try await Self.get(url)
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

    /// A plain HTTP GET on loopback; any failure or non-200 status is an error. Not
    /// URLSession: FoundationNetworking would link libcurl into every start of the binary.
    static func get(_ url: String) async throws -> Data {
        let response = try await PlainHTTP.get(url, timeout: 5)
        guard response.status == 200 else { throw ValidationError("\(url): HTTP \(response.status)") }
        return response.body
    }
}
