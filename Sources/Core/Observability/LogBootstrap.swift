import Logging

/// Process-wide logging to standard error at a level named as Calico names them
/// (FELIX_LOGSEVERITYSCREEN: Debug, Info, Warning, Error, Fatal, None).
public enum LogBootstrap {
    public static func level(calicoName: String) -> Logger.Level? {
        switch calicoName.lowercased() {
        case "trace": return .trace
        case "debug": return .debug
        case "info": return .info
        case "warning", "warn": return .warning
        case "error": return .error
        case "fatal", "panic": return .critical
        case "none": return nil
        default: return .info
        }
    }

    /// Bootstraps swift-log once per process (later calls are ignored by swift-log's contract,
    /// so call it first thing in a command).
    public static func bootstrap(calicoLevel: String) {
        let level = level(calicoName: calicoLevel)
        LoggingSystem.bootstrap { label in
            guard let level else { return SwiftLogNoOpLogHandler() }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
