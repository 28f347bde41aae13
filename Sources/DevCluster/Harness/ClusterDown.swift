import Core
import Foundation

/// `down`: every pod (CNI DEL while the API server still answers), every namespace and link,
/// the API server process, then the files. Best effort throughout: each failure is reported
/// and the rest still removed, so a half-made cluster goes away too.
struct ClusterDown {
    var dataDir: String
    var say: (String) -> Void = { print($0) }

    func run() {
        guard let state = try? HarnessState.load(dataDir) else {
            say("no dev cluster in \(dataDir)")
            return
        }
        let pods = PodRuntime(dataDir: dataDir)
        // Pods go side by side, as a kubelet tears sandboxes down concurrently.
        let messages = LockedErrors()
        DispatchQueue.concurrentPerform(iterations: state.pods.count) { i in
            let p = state.pods[i]
            do { try pods.delete(namespace: p.namespace, name: p.name, bestEffort: true, say: { messages.append(HarnessError($0)) }) } catch {
                messages.append(HarnessError("removing pod \(p.key): \(error)"))
                _ = try? HarnessShell.run(NetworkCommands.removeNetns(p.netns))
            }
        }
        messages.all.forEach { say("\($0)") }
        let teardown = NetworkCommands.teardown(nodeNetns: state.nodes.map(\.netns), underlayNetns: state.underlayNetns,
                                                rootLink: state.rootLink)
        for c in teardown {
            let target = c.last ?? ""
            let exists = c[1] == "netns" ? FileManager.default.fileExists(atPath: NetNamespace.named(target).path)
                                         : FileManager.default.fileExists(atPath: "/sys/class/net/\(target)")
            guard exists else { continue }
            if let r = try? HarnessShell.run(c), r.status != 0 { say("`\(c.joined(separator: " "))`: \(r.err.trimmingCharacters(in: .whitespacesAndNewlines))") }
        }
        if let server = state.apiServer { HarnessShell.stop(server.pid, marker: APIServerDaemon.marker) }
        let fm = FileManager.default
        if state.createdDataDir {
            try? fm.removeItem(atPath: dataDir)
        } else {
            for sub in ["apiserver", "nodes", "state.json", "state.lock"] { try? fm.removeItem(atPath: dataDir + "/" + sub) }
        }
        say("cluster \(state.clusterName) removed")
    }
}
