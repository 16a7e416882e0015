import Foundation
import Testing

/// `Tests/Interop/transfer_server.py`: two loopback HTTP servers that log what they receive, and a
/// port that never accepts.
final class TransferServer {
    struct Info: Decodable {
        var base_url: String
        var other_url: String
        var full_url: String
        var access_key: String
        var secret_key: String
    }

    /// What the server received, and its answer to most paths.
    struct Entry: Decodable {
        var server: String?
        var method: String
        var path: String
        var headers: [[String]]?
        var length: Int
        var sha256: String
        var sigv4: String?

        func header(_ name: String) -> String? {
            headers?.first { $0[0].lowercased() == name.lowercased() }?[1]
        }
    }

    let peer: InteropPeer<Info>
    var info: Info { peer.info }
    let cli: CLI

    /// Starts the server and a vault whose named credentials point at it: `Api` (Basic and an
    /// `X-Api-Key` from a secret, plus `X-Team`) at BASE/api, `Signed` (SigV4) at BASE/sigv4,
    /// `Unsigned` (SigV4, `UNSIGNED-PAYLOAD`) at BASE/unsigned, `Full` at the port that never
    /// accepts, `Log` at BASE (for the server's log).
    init() throws {
        cli = CLI()
        peer = try InteropPeer(
            "transfer_server.py", [cli.home + "/transfer.json"], infoPath: cli.home + "/transfer.json")
        let config = cli.home + "/transfer.yaml"
        try """
        externalCredentials:
          - name: Api
            protocol: basic
            customHeaders: [ { name: X-Api-Key, value: "{!$Credential.Api.apiKey}" } ]
            principals:
              - { name: svc, parameters: { username: svc }, secrets: { password: env:PW, apiKey: env:APIKEY } }
          - name: Aws
            protocol: aws-sigv4
            parameters: { region: us-east-1, service: sts }
            principals: [ { name: deploy, secrets: { accessKeyId: env:AK, secretAccessKey: env:SK } } ]
          - name: AwsUnsigned
            protocol: aws-sigv4
            parameters: { region: us-east-1, service: sts, payloadSigning: unsigned }
            principals: [ { name: deploy, secrets: { accessKeyId: env:AK, secretAccessKey: env:SK } } ]
          - { name: Plain, protocol: none, principals: [{ name: anyone }] }
        namedCredentials:
          - name: Api
            url: "\(peer.info.base_url)/api"
            externalCredential: Api
            allowMergeFieldsInHeader: true
            customHeaders: [ { name: X-Team, value: payments } ]
          - { name: Signed, url: "\(peer.info.base_url)/sigv4", externalCredential: Aws }
          - { name: Unsigned, url: "\(peer.info.base_url)/sigv4/unsigned", externalCredential: AwsUnsigned }
          - { name: Full, url: "\(peer.info.full_url)", externalCredential: Plain }
          - { name: Log, url: "\(peer.info.base_url)", externalCredential: Plain }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try cli.ok(["init"])
        try cli.ok(
            ["apply", "-f", config],
            environment: [
                "PW": "api-password-not-for-elsewhere", "APIKEY": "api-key-not-for-elsewhere",
                "AK": peer.info.access_key, "SK": peer.info.secret_key,
            ])
    }

    func stop() { peer.stop() }

    /// Everything the servers received so far.
    func log() throws -> [Entry] {
        try JSONDecoder().decode([Entry].self, from: Data(cli.ok(["call", "callout:Log/_log"]).stdout.utf8))
    }

    func entries(_ path: String) throws -> [Entry] {
        try log().filter { $0.path == path }
    }

    static func echo(_ result: CLI.Result) throws -> Entry {
        try JSONDecoder().decode(Entry.self, from: Data(result.stdout.utf8))
    }
}

@Suite("sigil call: redirects, timeouts and streamed bodies against a real local HTTP server", .serialized)
struct TransferAcceptanceTests {
    func encoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
    }

    @Test(
        "the path sent is the path checked: escapes that are not UTF-8, '..;' and caller Host headers never reach the server"
    )
    func hostilePaths() throws {
        let server = try TransferServer()
        defer { server.stop() }
        let cli = server.cli
        // Once sent as "GET /" and "GET /?q=1" with the credential (Foundation drops such paths).
        for url in [
            "callout:Api/%ff", "callout:Api/a/%c0%ae%c0%ae/admin?q=1", "callout:Api/..;/admin",
            "callout:Api/x/%2e%2e;a=b/admin",
        ] {
            for command in ["call", "sign"] {
                let refused = try cli.run([command, url])
                #expect(
                    refused.status == 1 && refused.stderr.contains("callout Api: the path has"),
                    "\(command) \(url): \(refused.stderr)")
            }
        }
        // Domain fronting: the caller's Host would pick another virtual host behind a shared front end.
        for header in [
            "Host: other.example", "Content-Length: 0", "Transfer-Encoding: chunked",
            "Connection: close, Authorization",
        ] {
            let refused = try cli.run(["call", "-H", header, "callout:Api/echo/h"])
            #expect(
                refused.status == 1 && refused.stderr.contains("is set by the HTTP client"),
                "\(header): \(refused.stderr)")
        }
        let received = try server.log()
        #expect(received.allSatisfy { $0.path.hasPrefix("/_log") }, "\(received.map(\.path))")

        // What the HTTP client would encode is encoded first: the path signed is the path received.
        let signed = try cli.ok(["sign", "--json", "callout:Api/echo/%e2%82%ac/x;v=1?filter[a]={b|c}&q=%ff"]).stdout
        let url =
            try #require(try JSONSerialization.jsonObject(with: Data(signed.utf8)) as? [String: Any])["url"] as? String
        let echo = try TransferServer.echo(cli.ok(["call", "callout:Api/echo/%e2%82%ac/x;v=1?filter[a]={b|c}&q=%ff"]))
        #expect(echo.path == "/api/echo/%e2%82%ac/x;v=1?filter%5Ba%5D=%7Bb%7Cc%7D&q=%ff")
        #expect(url == server.info.base_url + echo.path)
    }

    @Test(
        "redirects inside the endpoint are followed and decorated again; leaving it is refused, or followed without any credential; loops end"
    )
    func redirects() throws {
        let server = try TransferServer()
        defer { server.stop() }
        let cli = server.cli

        // Inside the endpoint, absolute path and relative reference: the credential goes along.
        var echo = try TransferServer.echo(
            cli.ok(["call", "callout:Api/redirect?code=302&to=\(encoded("/api/echo/a"))"]))
        #expect(echo.path == "/api/echo/a")
        echo = try TransferServer.echo(cli.ok(["call", "callout:Api/redirect?code=301&to=echo/b"]))
        #expect(echo.path == "/api/echo/b")
        let followed = try #require(try server.entries("/api/echo/b").first)
        #expect(followed.header("Authorization")?.hasPrefix("Basic ") == true)
        #expect(followed.header("X-Api-Key") == "api-key-not-for-elsewhere")
        #expect(followed.header("X-Team") == "payments")

        // 303 turns a POST into a GET without body; 307 keeps both.
        echo = try TransferServer.echo(cli.ok(["call", "-d", "hello", "callout:Api/redirect?code=303&to=echo/c"]))
        #expect((echo.method, echo.length) == ("GET", 0))
        echo = try TransferServer.echo(cli.ok(["call", "-d", "hello", "callout:Api/redirect?code=307&to=echo/d"]))
        #expect((echo.method, echo.length) == ("POST", 5))

        // Leaving the endpoint (another port, or outside the base path) is refused by default.
        let otherHost = String(server.info.other_url.dropFirst("http://".count))
        let away = try cli.run([
            "call", "callout:Api/redirect?code=302&to=\(encoded(server.info.other_url + "/echo/e"))",
        ])
        #expect(away.status == 1)
        #expect(
            away.stderr.contains(
                "named credential Api: the server redirected (302) to host \(otherHost), outside the credential's endpoint"
            ), "\(away.stderr)")
        let outsidePath = try cli.run(["call", "callout:Api/redirect?code=302&to=\(encoded("/elsewhere/f"))"])
        #expect(outsidePath.status == 1)
        #expect(outsidePath.stderr.contains("outside the credential's endpoint"), "\(outsidePath.stderr)")
        #expect(try server.entries("/echo/e").isEmpty && server.entries("/elsewhere/f").isEmpty)

        // drop-credentials: followed as a plain request; the caller's own headers stay.
        echo = try TransferServer.echo(
            cli.ok([
                "call", "--redirects", "drop-credentials", "-H", "X-Caller: mine", "-H", "X-Team: caller-team",
                "callout:Api/redirect?code=302&to=\(encoded(server.info.other_url + "/echo/g"))",
            ]))
        #expect(echo.path == "/echo/g")
        let plain = try #require(try server.entries("/echo/g").first)
        #expect(plain.server == "other")
        for name in ["Authorization", "X-Api-Key", "X-Team", "Cookie"] {
            #expect(plain.header(name) == nil, "\(name) went to the other host")
        }
        #expect(plain.header("X-Caller") == "mine")

        // Loops end after --max-redirs (default 5); --redirects off returns the 3xx.
        let loop = try cli.run(["call", "callout:Api/loop/0"])
        #expect(loop.status == 1)
        #expect(loop.stderr.contains("named credential Api: more than 5 redirects"), "\(loop.stderr)")
        #expect(try server.log().filter { $0.path.hasPrefix("/api/loop/") }.count == 6)
        #expect(try cli.run(["call", "--max-redirs", "1", "callout:Api/loop/100"]).status == 1)
        #expect(try server.log().filter { $0.path.hasPrefix("/api/loop/10") }.count == 2)
        let off = try cli.ok(["call", "-i", "--redirects", "off", "callout:Api/redirect?code=302&to=echo/h"])
        #expect(off.stdout.hasPrefix("HTTP/1.1 302\r\n"))
        #expect(off.stdout.contains("Location: echo/h"))

        // SigV4: the redirected request is signed again for its URL (botocore checks both).
        echo = try TransferServer.echo(
            cli.ok([
                "call", "-d", "Action=GetCallerIdentity",
                "callout:Signed/redirect?code=307&to=\(encoded("/sigv4/echo/i?x=1"))",
            ]))
        #expect(echo.sigv4 == "valid", "\(echo.sigv4 ?? "")")
        #expect(
            try server.entries("/sigv4/redirect?code=307&to=\(encoded("/sigv4/echo/i?x=1"))").first?.sigv4 == "valid")

    }

    @Test(
        "--max-time ends a call the server never answers; --connect-timeout one that cannot connect; both name the credential"
    )
    func timeouts() throws {
        let server = try TransferServer()
        defer { server.stop() }
        let cli = server.cli

        var started = Date()
        let silent = try cli.run(["call", "--max-time", "1", "-o", cli.home + "/never.json", "callout:Api/silent"])
        #expect(silent.status == 1)
        #expect(silent.stderr.contains("GET to named credential Api timed out after 1 s"), "\(silent.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cli.home + "/never.json"), "a failed call leaves no -o file")
        #expect(Date().timeIntervalSince(started) < 15)

        started = Date()
        let unreachable = try cli.run(["call", "--connect-timeout", "1", "callout:Full/x"])
        #expect(unreachable.status == 1)
        #expect(
            unreachable.stderr.contains("GET to named credential Full: connecting timed out after 1 s"),
            "\(unreachable.stderr)")
        #expect(Date().timeIntervalSince(started) < 15)

        let bad = try cli.run(["call", "--max-time", "0", "callout:Api/x"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("--max-time"))
    }

    @Test(
        "--data-file streams a 20 MiB file (Content-Length) and standard input (chunked); -o receives a 70 MiB answer; every byte arrives"
    )
    func streamed() throws {
        let server = try TransferServer()
        defer { server.stop() }
        let cli = server.cli

        let path = try makeFile(cli.home + "/big.bin", mebibytes: 20)
        let expected = try sha256(of: path)

        let echo = try TransferServer.echo(
            cli.ok(["call", "-X", "PUT", "--data-file", path, "callout:Api/upload/big"]))
        #expect((echo.method, echo.length, echo.sha256) == ("PUT", 20 << 20, expected))
        let received = try #require(try server.entries("/api/upload/big").first)
        #expect(received.header("Content-Length") == String(20 << 20))
        #expect(received.header("Authorization")?.hasPrefix("Basic ") == true)

        // A 2xx answer goes to -o (or standard output) as it arrives, beyond the 64 MiB kept in memory.
        let answer = cli.home + "/download.bin"
        let head = try cli.ok(["call", "-i", "-o", answer, "callout:Api/download?mib=70"]).stdout
        let announced = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("x-content-sha256: ") }?
            .dropFirst("x-content-sha256: ".count)
        #expect(try FileManager.default.attributesOfItem(atPath: answer)[.size] as? Int == 70 << 20)
        // What the credential unlocked is private from the first byte, whatever the umask (022 here).
        #expect(try FileManager.default.attributesOfItem(atPath: answer)[.posixPermissions] as? Int == 0o600)
        #expect(try sha256(of: answer) == announced.map(String.init))
        let streamedOut = try cli.ok(["call", "callout:Api/download?mib=65"])
        #expect(streamedOut.stdout.utf8.count == 65 << 20, "standard output receives it as it arrives too")
        let tooLarge = try cli.run(["call", "-i", "callout:Api/download?mib=65"])
        #expect(
            tooLarge.stderr.contains("the response is larger than 67108864 bytes"),
            "with -i the body waits in memory for the head, up to 64 MiB")

        let text = String(repeating: "streamed from standard input\n", count: 1000)
        let piped = try TransferServer.echo(
            cli.ok(["call", "--data-file", "-", "callout:Api/upload/stdin"], stdin: text))
        #expect((piped.method, piped.length) == ("POST", text.utf8.count))
        #expect(try server.entries("/api/upload/stdin").first?.header("Transfer-Encoding") == "chunked")
        #expect(
            try cli.run(["call", "--data-file", cli.home + "/missing.bin", "callout:Api/x"]).stderr.contains(
                "cannot read --data-file"))
    }

    @Test(
        "SigV4 over a streamed body: a file hashed first, a declared hash, UNSIGNED-PAYLOAD; botocore checks the signature"
    )
    func streamedSigV4() throws {
        let server = try TransferServer()
        defer { server.stop() }
        let cli = server.cli
        let path = cli.home + "/form.txt"
        let body = "Action=GetCallerIdentity&Version=2011-06-15"
        try body.write(toFile: path, atomically: true, encoding: .utf8)
        let hash = try sha256(of: path)

        var echo = try TransferServer.echo(cli.ok(["call", "--data-file", path, "callout:Signed/upload/file"]))
        #expect(echo.sigv4 == "valid", "\(echo.sigv4 ?? "")")
        #expect(echo.sha256 == hash)

        echo = try TransferServer.echo(
            cli.ok(
                ["call", "--data-file", "-", "--payload-sha256", hash.uppercased(), "callout:Signed/upload/declared"],
                stdin: body))
        #expect(echo.sigv4 == "valid", "\(echo.sigv4 ?? "")")
        let wrongHash = String(repeating: "0", count: 64)
        echo = try TransferServer.echo(
            cli.ok(["call", "--data-file", path, "--payload-sha256", wrongHash, "callout:Signed/upload/wrong"]))
        #expect(
            echo.sigv4?.hasPrefix("SignatureDoesNotMatch") == true,
            "a declared hash is signed as given; the server recomputes it")

        let unknown = try cli.run(["call", "--data-file", "-", "callout:Signed/upload/stdin"], stdin: body)
        #expect(unknown.status == 1)
        #expect(
            unknown.stderr.contains(
                "external credential Aws signs the payload (payloadSigning: signed), but the body is streamed and its SHA-256 is not known"
            ), "\(unknown.stderr)")
        #expect(try server.entries("/sigv4/upload/stdin").isEmpty)

        echo = try TransferServer.echo(
            cli.ok(["call", "--data-file", "-", "callout:Unsigned/upload/stdin"], stdin: body))
        #expect(echo.sigv4 == "valid", "\(echo.sigv4 ?? "")")
        #expect(
            try server.entries("/sigv4/unsigned/upload/stdin").first?.header("X-Amz-Content-SHA256")
                == "UNSIGNED-PAYLOAD")

        // sign agrees: the declared hash is what it signs for a body sent separately.
        let signed = try cli.ok([
            "sign", "--payload-sha256", hash, "--at", "2026-01-01T00:00:00Z", "callout:Signed/upload/file",
        ]).stdout
        let inMemory = try cli.ok([
            "sign", "--data-file", path, "--at", "2026-01-01T00:00:00Z", "callout:Signed/upload/file",
        ]).stdout
        func authorization(_ text: String) -> String? {
            text.split(separator: "\n").first { $0.hasPrefix("Authorization: ") }.map(String.init)
        }
        #expect(authorization(signed) != nil && authorization(signed) == authorization(inMemory))
    }

    @Test(
        "a progress bar on standard error when it is a terminal (a pty) and the upload or download is over 4 MiB; none with --silent"
    )
    func progress() throws {
        let server = try TransferServer()
        defer { server.stop() }
        let path = try makeFile(server.cli.home + "/big.bin", mebibytes: 8)
        let shown = try withTerminal(
            server.cli,
            [
                "call", "-X", "PUT", "--data-file", path, "-o", server.cli.home + "/answer.json",
                "callout:Api/upload/progress",
            ])
        #expect(
            shown.contains("upload   8.0 MiB / 8.0 MiB [##############################] 100%"),
            "\(shown.debugDescription)")
        let download = try withTerminal(
            server.cli, ["call", "-o", server.cli.home + "/download.bin", "callout:Api/download?mib=5"])
        #expect(
            download.contains("download 5.0 MiB / 5.0 MiB [##############################] 100%"),
            "\(download.debugDescription)")
        let silent = try withTerminal(
            server.cli,
            [
                "call", "-s", "-X", "PUT", "--data-file", path, "-o", server.cli.home + "/answer.json",
                "callout:Api/upload/quiet",
            ])
        #expect(silent.isEmpty, "\(silent.debugDescription)")
        #expect(try server.entries("/api/upload/quiet").first?.length == 8 << 20)
    }

    /// Runs `sigil` with its standard error on a pseudo-terminal (Python's pty module) and returns
    /// what it wrote there.
    func withTerminal(_ cli: CLI, _ arguments: [String]) throws -> String {
        let script = """
            import os, pty, subprocess, sys
            master, slave = pty.openpty()
            child = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
            os.close(slave)
            seen = b""
            while True:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    break
                if not data:
                    break
                seen += data
            child.wait()
            sys.stdout.buffer.write(seen)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, CLI.binary] + arguments
        process.environment = cli.environment
        process.currentDirectoryURL = URL(fileURLWithPath: cli.home)
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// A file of `mebibytes` MiB of random bytes.
    func makeFile(_ path: String, mebibytes: Int) throws -> String {
        var block = [UInt8](repeating: 0, count: 1 << 20)
        for index in block.indices { block[index] = UInt8.random(in: 0...255) }
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let file = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        for round in 0..<mebibytes {
            block[0] = UInt8(round)
            file.write(Data(block))
        }
        try file.close()
        return path
    }

    func sha256(of path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: data, as: UTF8.self).prefix(64))
    }
}
