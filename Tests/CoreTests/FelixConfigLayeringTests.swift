import Core
import XCTest

final class FelixConfigLayeringTests: XCTestCase {
    func testDefaultsWithNoLayers() {
        let (config, issues) = FelixConfigLayering.resolve()
        XCTAssertEqual(config, FelixConfig())
        XCTAssertEqual(config.healthPort, 9099)
        XCTAssertEqual(config.healthHost, "127.0.0.1")
        XCTAssertEqual(config.prometheusMetricsPort, 9091)
        XCTAssertEqual(config.defaultEndpointToHostAction, "Drop")
        XCTAssertTrue(issues.isEmpty)
    }

    func testPrecedenceEnvOverNodeOverGlobal() {
        let global = ["healthPort": "9001", "logSeverityScreen": "Warning", "defaultEndpointToHostAction": "Accept",
                      "routeRefreshInterval": "30s"]
        let node = ["healthPort": "9002", "logSeverityScreen": "Debug"]
        let env = ["FELIX_HEALTHPORT": "9003", "PATH": "/bin", "felix_prometheusmetricsport": "9555",
                   "FELIX_HEALTHHOST": ""]
        let (config, issues) = FelixConfigLayering.resolve(global: global, node: node, environment: env)
        XCTAssertTrue(issues.isEmpty, "\(issues)")
        XCTAssertEqual(config.healthPort, 9003, "env wins")
        XCTAssertEqual(config.logSeverityScreen, "Debug", "node over global")
        XCTAssertEqual(config.defaultEndpointToHostAction, "Accept", "global over default")
        XCTAssertEqual(config.routeRefreshInterval, 30)
        XCTAssertEqual(config.prometheusMetricsPort, 9555, "env names are case-insensitive")
        XCTAssertEqual(config.healthHost, "127.0.0.1", "an empty variable counts as unset")
    }

    func testInvalidValueFallsBackToLowerLayerAndIsReported() {
        let (config, issues) = FelixConfigLayering.resolve(
            global: ["healthPort": "9100"], node: ["healthPort": "99999"], environment: ["FELIX_DEFAULTENDPOINTTOHOSTACTION": "maybe"])
        XCTAssertEqual(config.healthPort, 9100)
        XCTAssertEqual(config.defaultEndpointToHostAction, "Drop")
        XCTAssertEqual(issues.count, 2)
        XCTAssertTrue(issues.contains { $0.source == .node && $0.setting == "healthport" && $0.value == "99999" })
        XCTAssertTrue(issues.map(\.description).contains { $0.contains("FELIX_* environment: defaultendpointtohostaction=\"maybe\" is not Drop, Accept or Return") },
                      "\(issues)")
    }

    func testDurationsAndBooleans() {
        XCTAssertEqual(FelixConfigLayering.resolve(environment: ["FELIX_ROUTEREFRESHINTERVAL": "1m30s"]).config.routeRefreshInterval, 90)
        XCTAssertEqual(FelixConfigLayering.resolve(environment: ["FELIX_ROUTEREFRESHINTERVAL": "45"]).config.routeRefreshInterval, 45)
        XCTAssertEqual(FelixConfigLayering.resolve(global: ["debounceInterval": "250ms"]).config.debounceInterval, 0.25, accuracy: 1e-9)
        XCTAssertEqual(FelixConfigLayering.resolve(global: ["iptablesRefreshInterval": "10s"]).config.nftablesRefreshInterval, 10)
        XCTAssertFalse(FelixConfigLayering.resolve(environment: ["FELIX_PROMETHEUSMETRICSENABLED": "false"]).config.prometheusMetricsEnabled)
        XCTAssertFalse(FelixConfigLayering.resolve(node: ["ipv6Support": "False"]).config.ipv6Support)
        XCTAssertEqual(FelixConfigLayering.resolve(environment: ["FELIX_LOGSEVERITYSCREEN": "warn"]).config.logSeverityScreen, "Warning")
        XCTAssertEqual(FelixConfigLayering.resolve(environment: ["FELIX_ROUTEREFRESHINTERVAL": "10parsecs"]).issues.count, 1)
    }

    func testLayerFromResourceReadsTypedAndUntypedFields() throws {
        var spec = FelixConfigurationSpec()
        spec.healthPort = 9200
        spec.prometheusMetricsEnabled = false
        spec.defaultEndpointToHostAction = "Return"
        var resource = FelixConfiguration(metadata: ObjectMeta(name: "default"), spec: spec)
        resource.raw = .object(["spec": .object(["debounceInterval": .string("20ms"), "healthPort": .int(9201)])])
        let layer = FelixConfigLayering.layer(resource)
        XCTAssertEqual(layer["healthPort"], "9201", "the server's text wins over the typed copy")
        XCTAssertEqual(layer["prometheusMetricsEnabled"], "false")
        let config = FelixConfigLayering.resolve(global: layer).config
        XCTAssertEqual(config.healthPort, 9201)
        XCTAssertFalse(config.prometheusMetricsEnabled)
        XCTAssertEqual(config.defaultEndpointToHostAction, "Return")
        XCTAssertEqual(config.debounceInterval, 0.02, accuracy: 1e-9)
        XCTAssertEqual(FelixConfigLayering.layer(nil), [:])
    }
}
