import Foundation
import Prometheus

/// Felix's Prometheus metrics (names after Calico's felix where it has one).
public final class FelixMetrics: @unchecked Sendable {
    private let registry: PrometheusCollectorRegistry
    let endpoints: Gauge
    let policies: Gauge
    let profiles: Gauge
    let rules: Gauge
    let ipSets: Gauge
    let policyErrors: Gauge
    let policyErrorsTotal: Counter
    let unresolvedNamedPorts: Gauge
    let applyTime: DurationHistogram
    let updateToCommit: DurationHistogram
    let applies: Counter
    let applyFailures: Counter
    let lastErrorTime: Gauge
    private let lock = NSLock()
    private var lastErrorInfo: Gauge?

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        func gauge(_ name: String, _ help: String) -> Gauge {
            registry.makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help))
        }
        func counter(_ name: String, _ help: String) -> Counter {
            registry.makeCounter(descriptor: MetricNameDescriptor(metricName: name, unitName: "total", helpText: help))
        }
        let buckets: [Duration] = [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                                   .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                                   .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5)]
        endpoints = gauge("felix_active_local_endpoints", "Local workload endpoints felix programs.")
        policies = gauge("felix_active_local_policies", "Policies that apply to at least one local endpoint.")
        profiles = gauge("felix_active_local_profiles", "Profiles that local endpoints use.")
        rules = gauge("felix_nft_rules", "Rules in felix's nftables table.")
        ipSets = gauge("felix_ipsets_calico", "Selector and named-port sets felix programs.")
        policyErrors = gauge("felix_policy_errors", "Policies left out because they do not convert (bad selector, port, CIDR).")
        policyErrorsTotal = counter("felix_policy_errors", "Policy updates that failed to convert.")
        unresolvedNamedPorts = gauge("felix_unresolved_named_ports", "Named ports a rule uses that no selected endpoint defines.")
        applyTime = registry.makeDurationHistogram(descriptor: MetricNameDescriptor(
            metricName: "felix_int_dataplane_apply_time", unitName: "seconds", helpText: "Time to diff and commit one nftables batch."),
            buckets: buckets)
        updateToCommit = registry.makeDurationHistogram(descriptor: MetricNameDescriptor(
            metricName: "felix_update_to_commit", unitName: "seconds", helpText: "Time from a datastore update to its commit in the kernel."),
            buckets: buckets)
        applies = counter("felix_int_dataplane_applies", "Dataplane programming passes.")
        applyFailures = counter("felix_int_dataplane_failures", "Dataplane programming passes that failed.")
        lastErrorTime = gauge("felix_last_error_timestamp_seconds", "Unix time of the last dataplane or policy error (0: none).")
    }

    /// Replaces the `felix_last_error_info{error="..."} 1` series with the newest error.
    func recordError(_ message: String) {
        lastErrorTime.set(to: Date().timeIntervalSince1970)
        let short = String(message.prefix(200))
        lock.withLock {
            if let old = lastErrorInfo { registry.unregisterGauge(old) }
            let g = registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "felix_last_error_info", unitName: "",
                                                                        helpText: "The last error felix saw, as a label."),
                                       labels: [("error", short)])
            g.set(to: 1)
            lastErrorInfo = g
        }
    }
}
