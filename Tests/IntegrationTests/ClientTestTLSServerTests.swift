import Foundation
import XCTest

/// A throwaway HTTPS server (Python's http.server behind ssl) with certificates made by the
/// openssl command, so the transport is tested against real TLS without the dev API server.
///
/// Routes: a query containing `watch=true` streams newline-delimited watch events, each split
/// over two chunks (`fail410` in the query answers 410 instead, `errorevent` ends with an ERROR
/// event, `hold` keeps the stream open for timeoutSeconds); a path ending in `/status-CODE`
/// answers CODE with a Status body; `/hang` answers after 30 s; anything else echoes the
/// request as an object named `echo`.
final class ThrowawayHTTPSServer: @unchecked Sendable {
    let dir: String
    let port: Int
    private let process: Process
    private let stdinPipe = Pipe()

    var url: String { "https://127.0.0.1:\(port)" }
    func pem(_ name: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name)) }

    init() throws {
        dir = NSTemporaryDirectory() + "client-tls-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Self.makeCertificates(in: dir)
        try Self.script.write(toFile: dir + "/server.py", atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", dir + "/server.py", dir]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        // The server exits when this pipe closes, so it cannot outlive the test process.
        process.standardInput = stdinPipe
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(15)
        while !text.contains("\n"), Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let r = text.range(of: "listening on https://127.0.0.1:"),
              let p = Int(text[r.upperBound...].prefix { $0.isNumber }) else {
            process.terminate()
            throw DevServerError("test HTTPS server did not start: \(text)")
        }
        port = p
    }

    deinit {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// ca.crt signs server.crt (SAN IP 127.0.0.1) and client.crt (CN admin); other-ca.crt signs nothing used.
    private static func makeCertificates(in dir: String) throws {
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try "subjectAltName=IP:127.0.0.1\n".write(toFile: dir + "/san.ext", atomically: true, encoding: .utf8)
        let steps: [[String]] = [
            ["req", "-x509"] + ec + ["-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=test-ca"],
            ["req", "-x509"] + ec + ["-keyout", "other-ca.key", "-out", "other-ca.crt", "-days", "2", "-subj", "/CN=other-ca"],
            ["req"] + ec + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"],
            ["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.crt", "-days", "2", "-extfile", "san.ext"],
            ["req"] + ec + ["-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=admin"],
            ["x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "client.crt", "-days", "2"],
        ]
        for args in steps {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            p.arguments = args
            p.currentDirectoryURL = URL(fileURLWithPath: dir)
            p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            p.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw DevServerError("openssl \(args.joined(separator: " ")) failed") }
        }
    }

    private static let script = #"""
import http.server, json, os, ssl, sys, threading, time, urllib.parse

def exit_with_parent():
    sys.stdin.read()
    os._exit(0)
threading.Thread(target=exit_with_parent, daemon=True).start()

def status(code):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "test status %d" % code, "reason": "Test%d" % code, "code": code}

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args): pass

    def reply(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def chunk(self, text):
        data = text.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def watch(self, query):
        if "fail410" in query:
            return self.reply(410, status(410))
        params = urllib.parse.parse_qs(query)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(5 if "hold" not in query else 1):
            line = json.dumps({"type": "ADDED", "object": {"kind": "Node", "apiVersion": "v1",
                               "metadata": {"name": "n%d" % i, "resourceVersion": str(i + 1)}}}) + "\n"
            half = len(line) // 2
            self.chunk(line[:half]); time.sleep(0.01); self.chunk(line[half:])
        if "errorevent" in query:
            self.chunk(json.dumps({"type": "ERROR", "object": status(410)}) + "\n")
        if "hold" in query:
            time.sleep(float(params.get("timeoutSeconds", ["5"])[0]))
        self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        if "watch=true" in query:
            return self.watch(query)
        if path.rsplit("/", 1)[-1].startswith("status-"):
            code = int(path.rsplit("-", 1)[-1])
            return self.reply(code, status(code))
        if path == "/hang":
            time.sleep(30)
        cert = self.connection.getpeercert()
        subject = dict(x[0] for x in cert["subject"]) if cert else {}
        self.reply(200, {"kind": "Node", "metadata": {"name": "echo"}, "echo": {
            "method": self.command, "path": path, "query": query,
            "authorization": self.headers.get("Authorization"), "userAgent": self.headers.get("User-Agent"),
            "accept": self.headers.get("Accept"), "contentType": self.headers.get("Content-Type"),
            "body": body.decode(), "clientCN": subject.get("commonName")}})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

d = sys.argv[1]
http.server.ThreadingHTTPServer.request_queue_size = 256
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(d + "/server.crt", d + "/server.key")
ctx.load_verify_locations(d + "/ca.crt")
ctx.verify_mode = ssl.CERT_OPTIONAL
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print("listening on https://127.0.0.1:%d" % server.server_address[1], flush=True)
server.serve_forever()
"""#
}
