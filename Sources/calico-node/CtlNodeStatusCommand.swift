import ArgumentParser
import Core
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
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
        guard let url = URL(string: "http://\(host):\(address.port)/bgp/peers") else {
            throw ValidationError("bad --health-address '\(healthAddress)'")
        }
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

    /// A plain HTTP GET on loopback; any failure or non-200 status is an error.
    static func get(_ url: URL) async throws -> Data {
        var request = URLRequest(url: url)
        request.timeoutInterval = 5
        let (data, response) = try await URLSession.shared.data(for: request)
        guard let http = response as? HTTPURLResponse, http.statusCode == 200 else {
            throw ValidationError("\(url): HTTP \((response as? HTTPURLResponse)?.statusCode ?? 0)")
        }
        return data
    }
}
