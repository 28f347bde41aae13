import ArgumentParser
import Core
import Foundation

/// The kubelet's readiness/liveness probe. Calico's probe spells its flags with one dash
/// (`-felix-ready -bird-ready`); each flag accepts both spellings, and bird is bgp here.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Readiness and liveness probe: exits 0 only when every named check holds.",
        discussion: "Asks the health server of the calico-node on this host (GET /readiness, /liveness)."
    )

    @Flag(name: [.customLong("felix-ready"), .customLong("felix-ready", withSingleDash: true)], help: "Felix is ready.")
    var felixReady = false

    @Flag(name: [.customLong("felix-live"), .customLong("felix-live", withSingleDash: true)], help: "Felix is live.")
    var felixLive = false

    @Flag(name: [.customLong("bgp-ready"), .customLong("bgp-ready", withSingleDash: true),
                 .customLong("bird-ready"), .customLong("bird-ready", withSingleDash: true)],
          help: "The BGP speaker is ready (also -bird-ready, -bird6-ready).")
    var bgpReady = false

    @Flag(name: [.customLong("bird6-ready", withSingleDash: true), .customLong("bird6-ready")], help: .hidden)
    var bird6Ready = false

    @Flag(name: [.customLong("bgp-live"), .customLong("bgp-live", withSingleDash: true),
                 .customLong("bird-live"), .customLong("bird-live", withSingleDash: true)],
          help: "The BGP speaker is live (also -bird-live, -bird6-live).")
    var bgpLive = false

    @Flag(name: [.customLong("bird6-live", withSingleDash: true), .customLong("bird6-live")], help: .hidden)
    var bird6Live = false

    @Option(name: .customLong("health-address"),
            help: "HOST:PORT of the health server (default: FELIX_HEALTHHOST:FELIX_HEALTHPORT, else 127.0.0.1:9099).")
    var healthAddress: String = CheckCommand.environmentHealthAddress()

    /// The probe runs in calico-node's container, so it sees the FELIX_* settings the server used.
    static func environmentHealthAddress() -> String {
        let config = FelixConfigLayering.resolve(environment: ProcessInfo.processInfo.environment).config
        return ObservabilityAddress(host: config.healthHost, port: config.healthPort).description
    }

    @Option(help: "Seconds to wait for the health server's answer.")
    var timeout: Double = 5

    var requests: [CheckRequest] {
        var r: [CheckRequest] = []
        if felixReady { r.append(CheckRequest(component: "felix", aspect: .ready)) }
        if felixLive { r.append(CheckRequest(component: "felix", aspect: .live)) }
        if bgpReady || bird6Ready { r.append(CheckRequest(component: "bgp", aspect: .ready)) }
        if bgpLive || bird6Live { r.append(CheckRequest(component: "bgp", aspect: .live)) }
        return r
    }

    func validate() throws {
        guard !requests.isEmpty else {
            throw ValidationError("name at least one check: --felix-ready, --felix-live, --bgp-ready or --bgp-live")
        }
        _ = try address()
    }

    func address() throws -> ObservabilityAddress {
        guard let colon = healthAddress.lastIndex(of: ":"), let port = Int(healthAddress[healthAddress.index(after: colon)...]),
              (1...65535).contains(port) else {
            throw ValidationError("--health-address \"\(healthAddress)\" is not HOST:PORT (e.g. 127.0.0.1:9099)")
        }
        let host = healthAddress[..<colon].trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return ObservabilityAddress(host: host, port: port)
    }

    func run() throws {
        let address = try address()
        var answers: [String: Result<(status: Int, body: [UInt8]), CheckHTTPGet.Failure>] = [:]
        var failures: [String] = []
        for request in requests {
            if answers[request.path] == nil {
                answers[request.path] = Result { () throws(CheckHTTPGet.Failure) in
                    try CheckHTTPGet.get(address, path: request.path, timeout: timeout)
                }
            }
            switch answers[request.path]! {
            case .failure(let e): failures.append("\(request) failed: \(e)")
            case .success(let answer):
                let outcome = CheckEvaluation.evaluate(request, status: answer.status, body: answer.body)
                if let f = outcome.failure { failures.append(f) }
            }
        }
        guard failures.isEmpty else {
            FileHandle.standardError.write(Data((failures.joined(separator: "\n") + "\n").utf8))
            throw ExitCode(1)
        }
    }
}
