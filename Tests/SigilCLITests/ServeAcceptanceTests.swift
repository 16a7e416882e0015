import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `sigil serve` as a process, as its clients use it: started with a ready file, reached over real
/// HTTP by curl, stopped with SIGTERM.
final class ServeProcess {
    let process = Process()
    let url: String
    let logPath: String

    init(_ cli: CLI, _ arguments: [String] = ["--listen", "127.0.0.1:0"]) throws {
        let id = UInt64.random(in: 0...UInt64.max)
        let ready = cli.home + "/ready-\(id).json"
        logPath = cli.home + "/serve-\(id).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["serve", "--ready-file", ready] + arguments
        process.environment = cli.environment
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardError = process.standardOutput
        try process.run()
        for _ in 0..<300 where !FileManager.default.fileExists(atPath: ready) && process.isRunning {
            Thread.sleep(forTimeInterval: 0.1)
        }
        guard let data = FileManager.default.contents(atPath: ready),
            let info = try JSONSerialization.jsonObject(with: data) as? [String: Any], let url = info["url"] as? String
        else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            throw CocoaError(
                .fileNoSuchFile,
                userInfo: [
                    NSLocalizedDescriptionKey:
                        "sigil serve did not start: \((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")"
                ])
        }
        #expect(info["pid"] as? Int == Int(process.processIdentifier))
        self.url = url
    }

    /// SIGTERM, then its exit status (at most 30 s later).
    @discardableResult
    func terminate() -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<300 where process.isRunning { Thread.sleep(forTimeInterval: 0.1) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}

/// curl, an independent HTTP client: (HTTP status, body, response headers).
@discardableResult
func curl(_ arguments: [String], stdin: Data? = nil) throws -> (status: Int, body: Data, headers: String) {
    let id = UInt64.random(in: 0...UInt64.max)
    let bodyPath = NSTemporaryDirectory() + "curl-body-\(id)"
    let headerPath = NSTemporaryDirectory() + "curl-head-\(id)"
    defer { for path in [bodyPath, headerPath] { try? FileManager.default.removeItem(atPath: path) } }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments =
        ["curl", "-sS", "--max-time", "120", "-o", bodyPath, "-D", headerPath, "-w", "%{http_code}"] + arguments
    let output = Pipe()
    let input = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try input.fileHandleForWriting.close()
    let code = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (
        Int(code) ?? 0, FileManager.default.contents(atPath: bodyPath) ?? Data(),
        (try? String(contentsOfFile: headerPath, encoding: .utf8)) ?? ""
    )
}

@Suite("sigil serve: the process, TLS, SIGTERM, and the proxy against real upstreams", .serialized)
struct ServeAcceptanceTests {
    /// A user `app` granted every principal of the transfer server's vault, and an API key for it.
    func appKey(_ cli: CLI, principals: [String]) throws -> String {
        let config = cli.home + "/callers-\(UInt64.random(in: 0...UInt64.max)).yaml"
        try
            (["users:", "  - { name: app }", "grants:"]
            + principals.map { "  - { principal: \($0), to: [user:app] }" }).joined(separator: "\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        try cli.ok(["apply", "-f", config])
        return try cli.ok(["apikey", "create", "app"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("the ready file names the URL; SIGTERM lets a proxied 48 MiB download in flight finish, then exits 0")
    func readyAndDrain() async throws {
        let transfer = try TransferServer()
        defer { transfer.stop() }
        let key = try appKey(transfer.cli, principals: ["Api/svc", "Aws/deploy", "AwsUnsigned/deploy", "Plain/anyone"])
        let serve = try ServeProcess(transfer.cli)
        #expect(try curl([serve.url + "/healthz"]).status == 200)
        #expect(try curl([serve.url + "/readyz"]).status == 200)
        let url = serve.url
        let download = Task.detached {
            try curl([
                "--limit-rate", "16M", "-H", "Authorization: Bearer \(key)", url + "/v1/proxy/Api/download?mib=48",
            ])
        }
        // SIGTERM once the upstream has the request (the download is in flight), not after a fixed
        // time: on a busy machine curl may not even have connected yet.
        var polls = 0
        while try !transfer.log().contains(where: { $0.path.hasPrefix("/api/download") }), polls < 300 {
            try await Task.sleep(for: .milliseconds(100))
            polls += 1
        }
        try await Task.sleep(for: .milliseconds(200))
        let status = serve.terminate()
        let answer = try await download.value
        #expect(status == 0, "\(serve.log)")
        #expect(answer.status == 200)
        #expect(answer.body.count == 48 << 20)
        let expected = answer.headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("x-content-sha256:") }
        #expect(
            expected.map { $0.dropFirst("x-content-sha256:".count).trimmingCharacters(in: .whitespaces) }
                == sha256Hex(answer.body))
        // The use was recorded before the process ended.
        let uses = try transfer.cli.ok(["audit", "list", "--json", "--limit", "5"]).stdout
        #expect(uses.contains("use.proxy") && uses.contains("\"status 200\""), "\(uses)")
    }

    @Test(
        "the proxy signs for the upstream (SigV4 checked by botocore), keeps the caller's Authorization and cookies and the upstream's cookies behind, and streams 20 MiB each way"
    )
    func proxy() throws {
        let transfer = try TransferServer()
        defer { transfer.stop() }
        let key = try appKey(transfer.cli, principals: ["Api/svc", "Aws/deploy", "AwsUnsigned/deploy", "Plain/anyone"])
        let serve = try ServeProcess(transfer.cli)
        defer { serve.terminate() }
        let auth = ["-H", "Authorization: Bearer \(key)"]

        let signed = try curl(
            auth + [
                "-X", "POST", "--data-binary", "Action=GetCallerIdentity", serve.url + "/v1/proxy/Signed/check?a=1",
            ])
        #expect(signed.status == 200, "\(String(decoding: signed.body, as: UTF8.self))")
        let signedEntry = try #require(try transfer.log().last { $0.path.hasPrefix("/sigv4/check") })
        #expect(signedEntry.path == "/sigv4/check?a=1")
        #expect(signedEntry.sigv4 == "valid", "\(signedEntry.sigv4 ?? "")")

        let api = try curl(
            auth + ["-H", "Cookie: session=caller-cookie", "-H", "X-Trace: t-1", serve.url + "/v1/proxy/Api/echo"])
        #expect(api.status == 200)
        let apiEntry = try #require(try transfer.entries("/api/echo").last)
        #expect(apiEntry.header("X-Api-Key") == "api-key-not-for-elsewhere")
        #expect(apiEntry.header("Authorization")?.hasPrefix("Basic ") == true)
        #expect(apiEntry.header("Authorization") != "Bearer \(key)")
        #expect(apiEntry.header("Cookie") == nil)
        #expect(apiEntry.header("X-Trace") == "t-1")
        #expect(!api.headers.lowercased().contains("set-cookie"))

        // 20 MiB up with no declared length (chunked: streamed, signed UNSIGNED-PAYLOAD), and down.
        let upload = Data((0..<(20 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let up = try curl(
            auth + [
                "-X", "PUT", "-H", "Transfer-Encoding: chunked", "--data-binary", "@-",
                serve.url + "/v1/proxy/Unsigned/upload",
            ],
            stdin: upload)
        #expect(up.status == 200, "\(String(decoding: up.body.prefix(300), as: UTF8.self))")
        let upEntry = try #require(try transfer.entries("/sigv4/unsigned/upload").last)
        #expect(upEntry.length == upload.count)
        #expect(upEntry.sha256 == sha256Hex(upload))
        #expect(upEntry.sigv4 == "valid", "\(upEntry.sigv4 ?? "")")
        let down = try curl(auth + [serve.url + "/v1/proxy/Api/download?mib=20"])
        #expect(down.body.count == 20 << 20)

        // Errors are the CLI's, as JSON.
        let refused = try curl(auth + [serve.url + "/v1/proxy/Nope/x"])
        #expect(refused.status == 422)
        #expect(String(decoding: refused.body, as: UTF8.self).contains("\"code\":\"callout-refused\""))
        #expect(try curl([serve.url + "/v1/proxy/Api/echo"]).status == 401)
    }

    @Test("plain HTTP is refused on any address but loopback; with --tls-cert and --tls-key it serves HTTPS")
    func tls() throws {
        let cli = CLI()
        try cli.ok(["init"])
        let refused = try cli.run(["serve", "--listen", "0.0.0.0:0"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("plain HTTP is only for loopback"))
        let pki = try MTLSAcceptanceTests.makePKI(cli)
        let serve = try ServeProcess(
            cli, ["--listen", "127.0.0.1:0", "--tls-cert", pki + "/server.crt", "--tls-key", pki + "/server.key"])
        defer { serve.terminate() }
        #expect(serve.url.hasPrefix("https://127.0.0.1:"))
        #expect(try curl(["--cacert", pki + "/ca.crt", serve.url + "/healthz"]).status == 200)
        #expect(try curl([serve.url + "/healthz"]).status == 0)  // an unknown CA: curl refuses
    }

    @Test("the proxy against Authlib: a token the server has invalidated is refreshed once on 401 and the call retried")
    func oauthRefresh() async throws {
        let cli = CLI()
        let keys = try OAuthAcceptanceTests.Keys(directory: cli.home)
        let server = try OAuthServer(directory: cli.home, config: ["clients": OAuthAcceptanceTests().clients(keys)])
        try OAuthAcceptanceTests().configure(cli, server, keys)
        let key = try appKey(cli, principals: ["Basic/service"])
        let serve = try ServeProcess(cli)
        defer { serve.terminate() }
        let auth = ["-H", "Authorization: Bearer \(key)"]
        let first = try curl(auth + [serve.url + "/v1/proxy/Basic/api/me"])
        #expect(first.status == 200, "\(String(decoding: first.body, as: UTF8.self))")
        #expect(String(decoding: first.body, as: UTF8.self).contains("svc-basic"))
        #expect(try await server.tokenRequests() == 1)
        try await server.admin("/_invalidate_access_tokens")
        let second = try curl(auth + [serve.url + "/v1/proxy/Basic/api/me"])
        #expect(second.status == 200, "\(String(decoding: second.body, as: UTF8.self))")
        #expect(try await server.tokenRequests() == 2)
        // The token requests are counted per external credential (GET /metrics, for operators).
        let roles = cli.home + "/roles.yaml"
        try "roles:\n  operator: [user:app]\n".write(toFile: roles, atomically: true, encoding: .utf8)
        try cli.ok(["apply", "-f", roles])
        let metrics = String(decoding: try curl(auth + [serve.url + "/metrics"]).body, as: UTF8.self)
        #expect(
            metrics.contains(#"sigil_token_requests_total{external_credential="Basic",outcome="success"} 2"#),
            "\(metrics)")
        await server.stop()
    }

    @Test(
        "the platform-session authenticator asks an allowed identity URL (Authlib's) once per session, never a host off the allowlist, and follows no redirect"
    )
    func platformSession() async throws {
        let cli = CLI()
        let keys = try OAuthAcceptanceTests.Keys(directory: cli.home)
        let server = try OAuthServer(directory: cli.home, config: ["clients": OAuthAcceptanceTests().clients(keys)])
        try OAuthAcceptanceTests().configure(cli, server, keys)
        let base = server.info.base_url
        let host = String(base.dropFirst("http://".count))
        let config = cli.home + "/platform.yaml"
        try """
        users: [{ name: svc-basic }]
        grants: [{ principal: Post/service, to: [user:svc-basic] }]
        service:
          platformSession: { allowedHosts: ["\(host)"], userField: username, cacheSeconds: 60 }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try cli.ok(["apply", "-f", config])
        // A session of svc-basic at the platform: an access token the platform issued to it.
        let session = try cli.ok(["token", "Basic"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let serve = try ServeProcess(cli)
        defer { serve.terminate() }
        func sign(_ session: String, _ identity: String) throws -> Int {
            try curl([
                "-H", "X-Sigil-Session: \(session)", "-H", "X-Sigil-Identity-URL: \(identity)", "-X", "POST",
                "-d", #"{"method": "GET", "url": "callout:Post/api/me"}"#, serve.url + "/v1/sign",
            ]).status
        }
        func identityRequests() async throws -> Int { try await server.stats()["identity_requests"] as? Int ?? -1 }
        #expect(try sign(session, base + "/id/svc-basic") == 200)
        #expect(try await identityRequests() == 1)
        #expect(try sign(session, base + "/id/svc-basic") == 200)
        #expect(try await identityRequests() == 1)  // kept for cacheSeconds
        #expect(try sign("not-a-session", base + "/id/svc-basic") == 401)
        #expect(try await identityRequests() == 2)
        // Off the allowlist (another name for the same server), or a redirect: never asked or followed.
        #expect(
            try sign(session, base.replacingOccurrences(of: "127.0.0.1", with: "localhost") + "/id/svc-basic") == 401)
        #expect(try sign(session, "ftp://\(host)/id/svc-basic") == 401)
        #expect(try sign(session + "x", base + "/id/redirect/svc-basic") == 401)
        #expect(try await identityRequests() == 2)
        let uses = try cli.ok(["audit", "list", "--json", "--action", "use", "--user", "svc-basic"]).stdout
        #expect(uses.contains("\"authenticator\" : \"platform-session\""), "\(uses)")
        #expect(!uses.contains(session))
        await server.stop()
    }

    @Test(
        "the directory authenticator binds to a real slapd over StartTLS; a directory group maps to a role; a wrong or empty password, or a user Sigil does not know, is refused"
    )
    func directory() throws {
        let cli = CLI()
        let pki = try MTLSAcceptanceTests.makePKI(cli)
        struct Info: Decodable { var url: String }
        let ldap = try InteropPeer<Info>(
            "ldap_server.py", [cli.home + "/ldap.json", pki], infoPath: cli.home + "/ldap.json")
        defer { ldap.stop() }
        try cli.ok(["init"])
        let config = cli.home + "/directory.yaml"
        try """
        externalCredentials:
          - { name: Plain, protocol: none, principals: [{ name: anyone }] }
        namedCredentials:
          - { name: Api, url: "https://api.example", externalCredential: Plain }
        users: [{ name: alice }, { name: bob }]
        groups: [ops]
        grants: [{ principal: Plain/anyone, to: [user:alice, user:bob] }]
        roles:
          operator: [group:ops]
        service:
          directory:
            url: "\(ldap.info.url)"
            startTLS: true
            caBundle: "\(pki)/ca.crt"
            userDN: "uid={user},ou=people,dc=example,dc=org"
            groupBase: "ou=groups,dc=example,dc=org"
            groups: { sigil-operators: ops }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try cli.ok(["apply", "-f", config])
        let serve = try ServeProcess(cli)
        defer { serve.terminate() }
        let url = serve.url
        func call(_ user: String, _ password: String, _ path: String = "/v1/sign") throws -> Int {
            var arguments = ["-u", "\(user):\(password)"]
            if path == "/v1/sign" { arguments += ["-X", "POST", "-d", #"{"method": "GET", "url": "callout:Api/x"}"#] }
            return try curl(arguments + [url + path]).status
        }
        #expect(try call("alice", "alice-directory-password") == 200)
        // ops, from the directory's sigil-operators group, holds the operator role.
        #expect(try call("alice", "alice-directory-password", "/v1/audit") == 200)
        #expect(try call("alice", "not-her-password") == 401)
        #expect(try call("alice", "") == 401)
        #expect(try call("carol", "carol-directory-password") == 401)  // not a Sigil user
        #expect(try call("bob", "any") == 401)  // a Sigil user the directory does not know
        let uses = try cli.ok(["audit", "list", "--json", "--action", "use"]).stdout
        #expect(uses.contains("\"authenticator\" : \"directory\""), "\(uses)")
        #expect(!serve.log.contains("alice-directory-password"))
    }

    @Test(
        "SAML sign-on: a response signed by the IdP (signxml) opens a session; forged, expired, replayed, wrapped, foreign-key, wrong-audience and unsolicited responses are refused"
    )
    func saml() throws {
        let cli = CLI()
        let key = cli.home + "/idp.key"
        let certificate = cli.home + "/idp.crt"
        #expect(
            try shell([
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate,
                "-days",
                "2", "-subj", "/CN=idp.example",
            ]).status == 0)
        let port = try shell([
            "python3", "-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])",
        ]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let base = "http://127.0.0.1:\(port)"
        let pem = try String(contentsOfFile: certificate, encoding: .utf8)
            .split(separator: "\n").map { "      " + $0 }.joined(separator: "\n")
        try cli.ok(["init"])
        let config = cli.home + "/saml.yaml"
        try """
        externalCredentials:
          - { name: Plain, protocol: none, principals: [{ name: anyone }] }
        namedCredentials:
          - { name: Api, url: "https://api.example", externalCredential: Plain }
        users: [{ name: alice }]
        grants: [{ principal: Plain/anyone, to: [user:alice] }]
        service:
          saml:
            idpEntityID: https://idp.example
            idpSSOURL: https://idp.example/sso
            spEntityID: https://sigil.example
            acsURL: "\(base)/saml/acs"
            idpCertificate: |
        \(pem)
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try cli.ok(["apply", "-f", config])
        let serve = try ServeProcess(cli, ["--listen", "127.0.0.1:\(port)"])
        defer { serve.terminate() }

        /// A new sign-on: the AuthnRequest's ID from the login page.
        func login() throws -> String {
            let page = String(decoding: try curl([base + "/saml/login"]).body, as: UTF8.self)
            let value = try #require(page.firstRange(of: #"name="SAMLRequest" value=""#).map { page[$0.upperBound...] })
            let request = String(decoding: Data(base64Encoded: String(value.prefix { $0 != "\"" }))!, as: UTF8.self)
            let id = try #require(
                request.firstRange(of: #"ID=""#).map { request[$0.upperBound...].prefix { $0 != "\"" } })
            #expect(request.contains(#"AssertionConsumerServiceURL="\#(base)/saml/acs""#))
            return String(id)
        }
        /// The IdP's response (base64), as saml_idp.py signs it.
        func response(_ changes: [String: Any] = [:], inResponseTo: String?) throws -> String {
            let now = Int(Date().timeIntervalSince1970)
            var request: [String: Any] = [
                "issuer": "https://idp.example", "audience": "https://sigil.example", "recipient": base + "/saml/acs",
                "destination": base + "/saml/acs", "subject": "alice", "not_before": now - 60,
                "not_on_or_after": now + 300,
            ]
            if let inResponseTo { request["in_response_to"] = inResponseTo }
            request.merge(changes) { $1 }
            let data = try runInterop(
                "saml_idp.py", [key, certificate], input: try JSONSerialization.data(withJSONObject: request))
            return String(decoding: data, as: UTF8.self)
        }
        func post(_ samlResponse: String) throws -> (status: Int, body: String, headers: String) {
            let answer = try curl(["--data-urlencode", "SAMLResponse=\(samlResponse)", base + "/saml/acs"])
            return (answer.status, String(decoding: answer.body, as: UTF8.self), answer.headers)
        }

        let good = try response(inResponseTo: try login())
        let accepted = try post(good)
        #expect(accepted.status == 303, "\(accepted.body)")
        let cookieLine = try #require(
            accepted.headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("set-cookie: sigil_session=") })
        #expect(cookieLine.contains("HttpOnly") && cookieLine.contains("SameSite=Lax"))
        let cookie = String(cookieLine.dropFirst("set-cookie: ".count).prefix { $0 != ";" })
        let signed = try curl([
            "-b", cookie, "-X", "POST", "-d", #"{"method": "GET", "url": "callout:Api/x"}"#, base + "/v1/sign",
        ])
        #expect(signed.status == 200)

        let refusals: [(String, String)] = [
            (good, "answers no sign-on"),  // replayed: its request was answered already
            (try response(["tamper": "forge-subject"], inResponseTo: try login()), "does not verify"),
            (try response(["tamper": "embedded-key"], inResponseTo: try login()), "does not verify"),
            (try response(["tamper": "wrap"], inResponseTo: try login()), "exactly one"),
            (
                try response(["not_on_or_after": Int(Date().timeIntervalSince1970) - 600], inResponseTo: try login()),
                "expired"
            ),
            (try response(["audience": "https://other.example"], inResponseTo: try login()), "audience"),
            (try response(["recipient": "https://other.example/acs"], inResponseTo: try login()), "recipient"),
            (try response(inResponseTo: nil), "answers no sign-on"),
            (try response(["issuer": "https://evil.example"], inResponseTo: try login()), "issuer"),
            (try response(["subject": "mallory"], inResponseTo: try login()), "not a Sigil user"),
        ]
        for (samlResponse, reason) in refusals {
            let refused = try post(samlResponse)
            #expect(refused.status == 403, "\(reason): \(refused.body)")
            #expect(refused.body.contains(reason), "\(refused.body)")
            #expect(!refused.headers.lowercased().contains("set-cookie"))
        }
        // The response signed over the whole Response, not only the assertion, is accepted too.
        #expect(try post(try response(["sign": "response"], inResponseTo: try login())).status == 303)

        #expect(try curl(["-b", cookie, "-X", "POST", base + "/saml/logout"]).status == 204)
        #expect(try curl(["-b", cookie, "-X", "POST", "-d", "{}", base + "/v1/sign"]).status == 401)
        let uses = try cli.ok(["audit", "list", "--json", "--action", "use"]).stdout
        #expect(uses.contains("\"authenticator\" : \"saml\""), "\(uses)")
    }

    @Test("the proxy signs STS calls moto accepts, and presents the client certificate openssl s_server demands")
    func motoAndMTLS() throws {
        let cli = CLI()
        let moto = try MotoServer(directory: cli.home)
        defer { moto.stop() }
        let pki = try MTLSAcceptanceTests.makePKI(cli)
        let tls = try TLSServer(directory: pki)
        defer { tls.stop() }
        try cli.ok(["init"])
        let config = cli.home + "/upstreams.yaml"
        try """
        externalCredentials:
          - name: Aws
            protocol: aws-sigv4
            parameters: { region: us-east-1, service: sts }
            principals: [{ name: deploy, secrets: { accessKeyId: env:AK, secretAccessKey: env:SK } }]
          - { name: Plain, protocol: none, principals: [{ name: anyone }] }
        namedCredentials:
          - { name: Sts, url: "\(moto.info.endpoint)", externalCredential: Aws }
          - name: Tls
            url: "https://127.0.0.1:\(tls.port)"
            externalCredential: Plain
            clientIdentity: { certificate: "file:pki/client.crt", privateKey: "file:pki/client.key" }
            trust: { caBundle: pki/ca.crt }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try cli.ok(["apply", "-f", config], environment: ["AK": moto.info.access_key, "SK": moto.info.secret_key])
        let key = try appKey(cli, principals: ["Aws/deploy", "Plain/anyone"])
        let serve = try ServeProcess(cli)
        defer { serve.terminate() }
        let auth = ["-H", "Authorization: Bearer \(key)"]
        let identity = try curl(
            auth + [
                "-H", "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
                "--data-binary", "Action=GetCallerIdentity&Version=2011-06-15", serve.url + "/v1/proxy/Sts/",
            ])
        let text = String(decoding: identity.body, as: UTF8.self)
        #expect(identity.status == 200, "\(text)")
        #expect(text.contains(moto.info.user_arn))
        let mtls = try curl(auth + [serve.url + "/v1/proxy/Tls/"])
        #expect(mtls.status == 200)
        #expect(String(decoding: mtls.body, as: UTF8.self).contains("s_server") || mtls.body.count > 0)
    }
}

func sha256Hex(_ data: Data) -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["sha256sum"]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try? process.run()
    DispatchQueue.global().async {
        input.fileHandleForWriting.write(data)
        try? input.fileHandleForWriting.close()
    }
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return String(text.prefix(64))
}

@Suite("sigil user and sigil apikey")
struct CallerCommandTests {
    @Test("a password is read from stdin and checked; an API key is printed once, listed without its secret, revoked")
    func commands() throws {
        let cli = CLI()
        try cli.ok(["init"])
        let config = cli.home + "/users.yaml"
        try "users: [{ name: app }]\n".write(toFile: config, atomically: true, encoding: .utf8)
        try cli.ok(["apply", "-f", config])
        let short = try cli.run(["user", "set-password", "app"], stdin: "short\n")
        #expect(short.status == 1)
        #expect(short.stderr.contains("at least 12 characters"))
        #expect(!short.output.contains("short\n"))
        try cli.ok(["user", "set-password", "app"], stdin: "a long enough password\n")
        #expect(
            try cli.run(["user", "set-password", "nobody"], stdin: "a long enough password\n").stderr.contains(
                "no user nobody"))

        let created = try cli.ok(["apikey", "create", "app", "--expires", "30"])
        let key = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.hasPrefix("sigil_") && key.count == 66)
        #expect(created.stderr.contains("shown once"))
        let id = String(key.dropFirst(6).prefix(16))
        let listed = try cli.ok(["apikey", "list"]).stdout
        #expect(listed.contains(id) && listed.contains("active"))
        #expect(!listed.contains(key))
        try cli.ok(["apikey", "revoke", id])
        #expect(try cli.ok(["apikey", "list", "--json"]).stdout.contains("\"revokedAt\""))
        #expect(try cli.run(["apikey", "revoke", "0000000000000000"]).stderr.contains("no API key"))
        #expect(try cli.run(["apikey", "create", "app", "--expires", "0"]).status == 64)
        let audit = try cli.ok(["audit", "list", "--json"]).stdout
        #expect(audit.contains("apikey.create") && audit.contains("apikey.revoke") && audit.contains("user.password"))
        #expect(!audit.contains(key))
    }
}
