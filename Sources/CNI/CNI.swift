// The CNI module: the calico CNI plugin.
//
// Protocol/ is the pure core: spec versions, error codes, the environment and CNI_ARGS, the
// network config (Calico's keys), version-free results with encoders/decoders for every
// supported spec version, the dispatcher ((environment, stdin) -> request or output), and
// Calico's names (host veth, WorkloadEndpoint, IPAM handle). PluginEdge.swift is the only
// place that touches the process (environment, stdin, stdout).
public enum CNIModule { public static let name = "CNI" }
