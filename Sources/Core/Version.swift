/// The calico-node release this tree builds.
public enum CalicoVersion {
    public static let version = "0.1.0"
}
