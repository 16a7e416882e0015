import Foundation
import SigilCore
import SigilSigning
import SigilStore
import SigilTokens
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("OAuth 2.0 against a real authorization server (Authlib)", .serialized)
struct OAuthAcceptanceTests {
    /// Keys for private_key_jwt and the JWT bearer grant, made by openssl.
    struct Keys {
        let rsaPath: String
        let rsaPublic: String
        let ecPath: String
        let ecPublic: String

        init(directory: String) throws {
            rsaPath = directory + "/rsa.pem"
            ecPath = directory + "/ec.pem"
            try openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", rsaPath])
            try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", ecPath])
            rsaPublic = try openssl(["pkey", "-in", rsaPath, "-pubout"])
            ecPublic = try openssl(["pkey", "-in", ecPath, "-pubout"])
        }
    }

    func clients(_ keys: Keys) -> [[String: Any]] {
        [
            [
                "client_id": "svc-basic", "client_secret": "basic-secret-9d1c",
                "token_endpoint_auth_method": "client_secret_basic",
                "grant_types": ["client_credentials", "refresh_token"], "scope": "read write",
            ],
            [
                "client_id": "svc-post", "client_secret": "post-secret-4e7a",
                "token_endpoint_auth_method": "client_secret_post",
                "grant_types": ["client_credentials"], "scope": "read",
            ],
            [
                "client_id": "svc-jwt", "token_endpoint_auth_method": "private_key_jwt",
                "public_key_pem": keys.rsaPublic,
                "grant_types": ["client_credentials"], "scope": "read",
            ],
            [
                "client_id": "bearer", "token_endpoint_auth_method": "none", "public_key_pem": keys.ecPublic,
                "grant_types": ["urn:ietf:params:oauth:grant-type:jwt-bearer"], "scope": "read",
            ],
        ]
    }

    func configure(_ cli: CLI, _ server: OAuthServer, _ keys: Keys, refreshMargin: String = "60") throws {
        let config = cli.home + "/oauth.yaml"
        let token = server.info.token_url
        try """
        externalCredentials:
          - name: Basic
            protocol: oauth2
            parameters: { tokenUrl: "\(token)", grantType: client_credentials, clientId: svc-basic, clientAuth: basic, scope: read, refreshMargin: "\(refreshMargin)", revokeUrl: "\(server.info.revoke_url)" }
            principals:
              - { name: service, secrets: { clientSecret: env:BASIC_SECRET } }
          - name: Post
            protocol: oauth2
            parameters: { tokenUrl: "\(token)", clientId: svc-post, clientAuth: post, refreshOnBody: INVALID_SESSION_ID, revokeUrl: "\(server.info.revoke_url)", tokenParameters: "resource=https%3A%2F%2Fapi.example&tenant=t1" }
            principals:
              - { name: service, secrets: { clientSecret: env:POST_SECRET } }
          - name: KeyJwt
            protocol: oauth2
            parameters: { tokenUrl: "\(token)", clientId: svc-jwt, clientAuth: private_key_jwt }
            principals:
              - { name: service, secrets: { privateKey: "file:\(keys.rsaPath)" } }
          - name: Bearer
            protocol: oauth2
            parameters: { tokenUrl: "\(token)", grantType: jwt-bearer, clientId: bearer, clientAuth: none, assertionAlgorithm: ES256 }
            principals:
              - { name: alice, parameters: { subject: alice@example.com }, secrets: { privateKey: "file:\(keys.ecPath)" } }
        namedCredentials:
          - { name: Basic, url: "\(server.info.base_url)", externalCredential: Basic }
          - { name: Post, url: "\(server.info.base_url)", externalCredential: Post }
          - { name: KeyJwt, url: "\(server.info.base_url)", externalCredential: KeyJwt }
          - { name: Bearer, url: "\(server.info.base_url)", externalCredential: Bearer }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try cli.ok(["init"])
        try cli.ok(
            ["apply", "-f", config],
            environment: ["BASIC_SECRET": "basic-secret-9d1c", "POST_SECRET": "post-secret-4e7a"])
    }

    func me(_ body: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
    }

    @Test(
        "client credentials with secret in Basic, in the body, and a private_key_jwt assertion; the JWT bearer grant; the resource accepts every token"
    )
    func grantsAndClientAuthentication() async throws {
        let cli = CLI()
        let keys = try Keys(directory: cli.home)
        let server = try OAuthServer(directory: cli.home, config: ["clients": clients(keys)])
        try configure(cli, server, keys)
        for (name, subject) in [
            ("Basic", "svc-basic"), ("Post", "svc-post"), ("KeyJwt", "svc-jwt"), ("Bearer", "alice@example.com"),
        ] {
            let signed = try cli.ok(["sign", "--json", "callout:\(name)/api/me"]).stdout
            let response = try await server.send(signedJSON: signed)
            #expect(response.status == 200, "\(name): \(response.body)")
            #expect(me(response.body)["sub"] as? String == subject, "\(name): \(response.body)")
        }
        let stats = try await server.stats()
        let methods = stats["auth_methods"] as? [String: Int] ?? [:]
        #expect(
            methods["client_secret_basic"] == 1 && methods["client_secret_post"] == 1
                && methods["private_key_jwt"] == 1, "\(methods)")
        #expect((stats["by_grant"] as? [String: Int])?["urn:ietf:params:oauth:grant-type:jwt-bearer"] == 1)
        // The Post credential's extra token parameters arrived; the last request was its, or a later one.
        #expect(try await server.tokenRequests() == 4)

        // Cached: a second process reuses the sealed tokens, no new token request.
        _ = try cli.ok(["sign", "--json", "callout:Basic/api/me"])
        let token = try cli.ok(["token", "Basic"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await server.tokenRequests() == 4)
        #expect(!token.isEmpty && !token.contains(" "))
        let json = try cli.ok(["token", "Basic", "--json"]).stdout
        #expect(json.contains("\"instance_url\" : \"\(server.info.base_url)\""), "\(json)")
        let status = try cli.ok(["auth", "status"]).stdout
        #expect(status.contains("Basic/service") && status.contains("oauth2"))
        #expect(!status.contains(token))
        #expect(!status.contains("basic-secret-9d1c"))
        await server.stop()
    }

    @Test("extra token parameters reach the token endpoint")
    func extraParameters() async throws {
        let cli = CLI()
        let keys = try Keys(directory: cli.home)
        let server = try OAuthServer(directory: cli.home, config: ["clients": clients(keys)])
        try configure(cli, server, keys)
        try cli.ok(["token", "Post"])
        let parameters = try await server.stats()["last_token_request_params"] as? [String: Any] ?? [:]
        #expect(parameters["resource"] as? String == "https://api.example", "\(parameters)")
        #expect(parameters["tenant"] as? String == "t1")
        #expect(parameters["client_secret"] as? String == "<redacted>")
        await server.stop()
    }

    @Test(
        "a refresh token is used and its rotation stored; when it is refused (invalid_grant) the client-credentials grant runs again"
    )
    func refreshRotation() async throws {
        let cli = CLI()
        let keys = try Keys(directory: cli.home)
        let server = try OAuthServer(
            directory: cli.home,
            config: [
                "clients": clients(keys), "access_token_lifetime": 2, "rotate_refresh_tokens": true,
                "client_credentials_refresh_token": true,
            ])
        try configure(cli, server, keys, refreshMargin: "0")
        var seen: Set<String> = []
        seen.insert(try cli.ok(["token", "Basic"]).stdout)
        for _ in 0..<2 {
            try await Task.sleep(for: .milliseconds(2300))
            seen.insert(try cli.ok(["token", "Basic"]).stdout)
        }
        #expect(seen.count == 3)
        #expect(try await server.count(grant: "client_credentials") == 1)
        #expect(try await server.count(grant: "refresh_token") == 2, "the rotated refresh token was stored and used")

        try await server.admin("/_invalidate_refresh_tokens")
        try await Task.sleep(for: .milliseconds(2300))
        let signed = try cli.ok(["sign", "--json", "callout:Basic/api/me"]).stdout
        #expect(try await server.send(signedJSON: signed).status == 200)
        #expect(try await server.count(grant: "refresh_token") == 3)
        #expect(try await server.count(grant: "client_credentials") == 2)
        await server.stop()
    }

    @Test(
        "200 concurrent signing calls in one process, then 4 processes, against an expired token: one token request each time"
    )
    func concurrency() async throws {
        let cli = CLI()
        let keys = try Keys(directory: cli.home)
        let server = try OAuthServer(
            directory: cli.home, config: ["clients": clients(keys), "access_token_lifetime": 2])
        try configure(cli, server, keys, refreshMargin: "0")
        try cli.ok(["token", "Basic"])
        #expect(try await server.tokenRequests() == 1)
        try await Task.sleep(for: .milliseconds(2300))
        try await server.admin("/_delay", [("seconds", "0.5")])

        let vault = try Vault.open(at: cli.vaultPath, key: .keyFile(path: cli.keyPath), actor: "test")
        let broker = CredentialBroker(vault: vault)
        let engine = SigningEngine(source: vault, issuer: broker)
        let authorizations = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    try await engine.decorate(OutboundRequest(url: "callout:Basic/api/me")).headers.first {
                        $0.name == "Authorization"
                    }!.value
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        try await broker.shutdown()
        #expect(authorizations.count == 1)
        #expect(try await server.tokenRequests() == 2)

        try await Task.sleep(for: .milliseconds(2300))
        let tokens = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<4 {
                group.addTask { try cli.ok(["token", "Basic"]).stdout }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(tokens.count == 1)
        #expect(try await server.tokenRequests() == 3)
        await server.stop()
    }

    @Test(
        "the SAML 2.0 bearer grant and Salesforce's SAML assertion flow: assertions built and signed by Sigil, verified by the server with xmlsec1"
    )
    func saml() async throws {
        let cli = CLI()
        try openssl([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", cli.home + "/idp.key", "-out",
            cli.home + "/idp.crt", "-days", "2", "-subj", "/CN=idp.example",
        ])
        let certificate = try String(contentsOfFile: cli.home + "/idp.crt", encoding: .utf8)
        let server = try OAuthServer(
            directory: cli.home,
            config: [
                "clients": [
                    [
                        "client_id": "saml", "token_endpoint_auth_method": "none",
                        "saml_idp_certificate_pem": certificate, "saml_issuer": "https://idp.example",
                        "grant_types": ["urn:ietf:params:oauth:grant-type:saml2-bearer", "assertion"], "scope": "read",
                    ] as [String: Any]
                ]
            ])
        let config = cli.home + "/saml.yaml"
        try """
        externalCredentials:
          - name: Saml2
            protocol: oauth2
            parameters: { tokenUrl: "\(server.info.token_url)", grantType: saml2-bearer, clientId: saml, clientAuth: none, samlIssuer: "https://idp.example" }
            principals:
              - { name: alice, parameters: { subject: alice@example.com }, secrets: { privateKey: "file:idp.key", certificate: "file:idp.crt" } }
          - name: SamlFlow
            protocol: oauth2
            parameters: { tokenUrl: "\(server.info.token_url)", grantType: saml-assertion, clientId: saml, clientAuth: none, samlIssuer: "https://idp.example" }
            principals:
              - { name: bob, parameters: { subject: bob@example.com }, secrets: { privateKey: "file:idp.key" } }
        namedCredentials:
          - { name: Saml2, url: "\(server.info.base_url)", externalCredential: Saml2 }
          - { name: SamlFlow, url: "\(server.info.base_url)", externalCredential: SamlFlow }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try cli.ok(["init"])
        try cli.ok(["apply", "-f", config])
        for (name, subject) in [("Saml2", "alice@example.com"), ("SamlFlow", "bob@example.com")] {
            let response = try await server.send(
                signedJSON: try cli.ok(["sign", "--json", "callout:\(name)/api/me"]).stdout)
            #expect(response.status == 200, "\(name): \(response.body)")
            #expect(me(response.body)["sub"] as? String == subject, "\(name): \(response.body)")
        }
        let grants = try await server.stats()["by_grant"] as? [String: Int] ?? [:]
        #expect(grants["urn:ietf:params:oauth:grant-type:saml2-bearer"] == 1 && grants["assertion"] == 1, "\(grants)")
        await server.stop()
    }

    /// `sigil ARGS` running in the background, its standard output read line by line.
    final class Running {
        let process = Process()
        let output = Pipe()
        var buffer = Data()

        init(_ cli: CLI, _ arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: CLI.binary)
            process.arguments = arguments
            process.environment = cli.environment
            process.standardOutput = output
            process.standardError = output
            try process.run()
        }

        /// The first line containing `text`, and every line after it read so far (bounded: 30 s).
        func line(containing text: String) throws -> [String] {
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                let lines = String(decoding: buffer, as: UTF8.self).split(separator: "\n").map(String.init)
                if let index = lines.firstIndex(where: { $0.contains(text) }),
                    index + 1 < lines.count || !text.hasSuffix(":")
                {
                    return Array(lines[index...])
                }
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
            }
            throw CocoaError(
                .fileReadUnknown,
                userInfo: [
                    NSLocalizedDescriptionKey: "no line with \(text) in: \(String(decoding: buffer, as: UTF8.self))"
                ])
        }

        func finish() -> (status: Int32, output: String) {
            buffer.append(output.fileHandleForReading.readDataToEndOfFile())
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: buffer, as: UTF8.self))
        }
    }

    /// Fetches `url` as a browser would, following redirects (to Sigil's loopback listener).
    func browse(_ url: String) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c", "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=20).read()", url,
        ]
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// GETs `url` once (no redirects followed): the status and the page.
    func fetch(_ url: String) throws -> (status: Int, body: String) {
        let process = Process()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            """
            import sys, urllib.request, urllib.error
            try:
                r = urllib.request.urlopen(sys.argv[1], timeout=20); print(r.status); print(r.read().decode())
            except urllib.error.HTTPError as e:
                print(e.code); print(e.read().decode())
            """, url,
        ]
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let lines = text.split(separator: "\n", maxSplits: 1).map(String.init)
        return (Int(lines.first ?? "") ?? 0, lines.count > 1 ? lines[1] : "")
    }

    @Test(
        "auth login: the page says what happened (the provider's error decoded), and --timeout ends an abandoned login")
    func loginCallbacks() async throws {
        let cli = CLI()
        let redirectPort = try freeLoopbackPort()
        let redirect = "http://127.0.0.1:\(redirectPort)/callback"
        try """
        externalCredentials:
          - name: Calendar
            protocol: oauth2
            parameters: { tokenUrl: "http://127.0.0.1:9/token", authorizeUrl: "http://127.0.0.1:9/authorize", redirectUri: "\(redirect)", grantType: authorization_code, clientId: app }
            principals: [ { name: mine, type: per-user, secrets: { clientSecret: env:APP_SECRET } } ]
        users: [ { name: alice } ]
        grants: [ { principal: Calendar/mine, to: [user:alice] } ]
        """.write(toFile: cli.home + "/c.yaml", atomically: true, encoding: .utf8)
        try cli.ok(["init"])
        try cli.ok(["apply", "-f", cli.home + "/c.yaml"], environment: ["APP_SECRET": "s"])

        // The provider's refusal, form-encoded ("+" is a space), reaches the page and the terminal.
        let refused = try Running(cli, ["auth", "login", "Calendar", "--as", "alice"])
        let url = try #require(try refused.line(containing: "open this URL in a browser:").dropFirst().first)
        let state = try #require(URLComponents(string: url)?.queryItems?.first { $0.name == "state" }?.value)
        let page = try fetch("\(redirect)?error=access_denied&error_description=The+user+said+no%21&state=\(state)")
        #expect(
            page.status == 200
                && page.body.contains("The provider did not authorize Sigil (access_denied: The user said no!)"),
            "\(page)")
        let outcome = refused.finish()
        #expect(
            outcome.status == 1
                && outcome.output.contains("the authorization was refused: access_denied (The user said no!)"),
            "\(outcome.output)")

        // Abandoned: --timeout ends it, and the port is free again at once.
        let started = Date()
        let abandoned = try cli.run(["auth", "login", "Calendar", "--as", "alice", "--timeout", "1"])
        #expect(
            abandoned.status == 1 && abandoned.stderr.contains("no authorization callback arrived within 1 seconds"),
            "\(abandoned.stderr)")
        #expect(Date().timeIntervalSince(started) < 30, "ended by --timeout 1, not by the default 300 s")
        #expect(try fetch("\(redirect)?code=late&state=x").status == 0, "nothing listens after the login ended")
    }

    @Test(
        "per-user authorization: browser login with PKCE and device login store each user's tokens; a dead refresh token marks the authorization for renewal"
    )
    func perUserLogin() async throws {
        let cli = CLI()
        let redirectPort = try freeLoopbackPort()
        let redirect = "http://127.0.0.1:\(redirectPort)/callback"
        let server = try OAuthServer(
            directory: cli.home,
            config: [
                "access_token_lifetime": 2, "rotate_refresh_tokens": true,
                "clients": [
                    [
                        "client_id": "app", "client_secret": "app-secret-77b2",
                        "token_endpoint_auth_method": "client_secret_basic",
                        "grant_types": [
                            "authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code",
                        ],
                        "redirect_uris": [redirect], "scope": "read",
                    ] as [String: Any]
                ],
            ])
        let config = cli.home + "/calendar.yaml"
        try """
        externalCredentials:
          - name: Calendar
            protocol: oauth2
            parameters:
              tokenUrl: "\(server.info.token_url)"
              authorizeUrl: "\(server.info.authorize_url)"
              deviceUrl: "\(server.info.device_url)"
              redirectUri: "\(redirect)"
              grantType: authorization_code
              clientId: app
              scope: read
              refreshMargin: "0"
            principals:
              - { name: mine, type: per-user, secrets: { clientSecret: env:APP_SECRET } }
        namedCredentials:
          - { name: Calendar, url: "\(server.info.base_url)", externalCredential: Calendar }
        users:
          - { name: alice }
          - { name: bob }
        grants:
          - { principal: Calendar/mine, to: [user:alice, user:bob] }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try cli.ok(["init"])
        try cli.ok(["apply", "-f", config], environment: ["APP_SECRET": "app-secret-77b2"])

        let before = try cli.run(["sign", "--as", "alice", "callout:Calendar/api/me"])
        #expect(before.status != 0)

        // Browser: the URL carries state and an S256 challenge; the redirect reaches Sigil's listener.
        let alice = try Running(cli, ["auth", "login", "Calendar", "--as", "alice", "--login-hint", "alice"])
        let lines = try alice.line(containing: "open this URL in a browser:")
        let url = try #require(lines.dropFirst().first)
        #expect(url.contains("code_challenge_method=S256") && url.contains("state="))
        // A forged callback (another state) is answered and ignored: the login goes on waiting.
        let forged = try fetch("\(redirect)?code=attacker-code&state=forged")
        #expect(forged.status == 400 && forged.body.contains("state does not match"), "\(forged)")
        #expect(try browse(url) == 0)
        let aliceDone = alice.finish()
        #expect(aliceDone.status == 0, "\(aliceDone.output)")
        #expect(!aliceDone.output.contains("app-secret-77b2"))

        // Device: the code is approved at the server's admin endpoint, as a person would at its page.
        let bob = try Running(cli, ["auth", "login", "Calendar", "--as", "bob", "--device"])
        let prompt = try #require(try bob.line(containing: "enter the code").first)
        let userCode = try #require(prompt.split(separator: " ").last.map(String.init))
        try await server.admin("/_approve_device", [("user_code", userCode), ("user", "bob")])
        let bobDone = bob.finish()
        #expect(bobDone.status == 0, "\(bobDone.output)")

        for user in ["alice", "bob"] {
            let response = try await server.send(
                signedJSON: try cli.ok(["sign", "--json", "--as", user, "callout:Calendar/api/me"]).stdout)
            #expect(response.status == 200 && me(response.body)["sub"] as? String == user, "\(user): \(response.body)")
        }
        // Expired: the refresh token renews it (the tokens live 2 s, so earlier steps may have refreshed too).
        let refreshes = try await server.count(grant: "refresh_token")
        try await Task.sleep(for: .milliseconds(2300))
        #expect(
            try await server.send(
                signedJSON: try cli.ok(["sign", "--json", "--as", "alice", "callout:Calendar/api/me"]).stdout
            ).status == 200)
        #expect(try await server.count(grant: "refresh_token") == refreshes + 1)

        // The provider forgets the refresh tokens: the authorization needs renewing, and says so.
        try await server.admin("/_invalidate_refresh_tokens")
        try await Task.sleep(for: .milliseconds(2300))
        let dead = try cli.run(["sign", "--as", "alice", "callout:Calendar/api/me"])
        #expect(dead.status != 0)
        #expect(
            dead.stderr.contains(
                "no longer valid (invalid_grant on refresh); authorize again with `sigil auth login Calendar --as alice`"
            ), "\(dead.stderr)")
        let again = try cli.run(["sign", "--as", "alice", "callout:Calendar/api/me"])
        #expect(
            again.stderr.contains("no principal of external credential Calendar is available to user alice"),
            "\(again.stderr)")
        #expect(try await server.count(grant: "refresh_token") == refreshes + 2, "a dead authorization is not retried")
        let status = try cli.ok(["auth", "status"]).stdout
        #expect(status.contains("invalid_grant"), "\(status)")
        #expect(
            status.contains("needs-reauthorization") && status.contains("expired"),
            "alice must log in again, bob's token is renewed on use: \(status)")
        await server.stop()
    }

    @Test(
        "revocation (RFC 7009): sigil auth revoke, and deleting a principal, revoke its tokens at the provider and record the outcome"
    )
    func revocation() async throws {
        let cli = CLI()
        let keys = try Keys(directory: cli.home)
        let server = try OAuthServer(
            directory: cli.home, config: ["clients": clients(keys), "client_credentials_refresh_token": true])
        try configure(cli, server, keys)
        let signed = try cli.ok(["sign", "--json", "callout:Basic/api/me"]).stdout
        #expect(try await server.send(signedJSON: signed).status == 200)
        let revoked = try cli.ok(["auth", "revoke", "Basic"]).stdout
        #expect(revoked.contains("Basic/service: revoked (refresh_token)"), "\(revoked)")
        let rejected = try await server.send(signedJSON: signed)
        #expect(
            rejected.status == 401 && rejected.body.contains("INVALID_SESSION_ID"), "the revoked token no longer works")
        #expect(try await server.stats()["revocations"] as? Int == 1)
        let states =
            try JSONSerialization.jsonObject(with: Data(try cli.ok(["auth", "status", "--json"]).stdout.utf8))
            as? [[String: Any]] ?? []
        #expect(
            states.first { $0["principal"] as? String == "Basic/service" }?["state"] as? String == "configured",
            "\(states)")

        try cli.ok(["token", "Post"])
        let deleted = try cli.ok(["delete", "principal", "Post/service"])
        #expect(deleted.stderr.contains("Post/service: revoked (access_token)"), "\(deleted.stderr)")
        #expect(try await server.stats()["revocations"] as? Int == 2)
        let audit = try cli.ok(["audit", "list", "--json"]).stdout
        #expect(audit.components(separatedBy: "issued.revoke").count - 1 == 2)
        #expect(try cli.ok(["audit", "verify"]).status == 0)

        // Check first, act after: a deletion the vault refuses revokes nothing.
        let again = try cli.ok(["sign", "--json", "callout:Basic/api/me"]).stdout
        let refused = try cli.run(["delete", "external-credential", "Basic"])
        #expect(
            refused.status == 1 && refused.stderr.contains("is used by named credential Basic"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("revoked"), "\(refused.stderr)")
        #expect(try await server.stats()["revocations"] as? Int == 2)
        #expect(try await server.send(signedJSON: again).status == 200, "the token still works")

        // A token obtained under other settings is not sent (with the client's secret) to what the
        // settings name now.
        let moved = cli.home + "/moved.yaml"
        try """
        externalCredentials:
          - name: Basic
            protocol: oauth2
            parameters: { tokenUrl: "\(server.info.token_url)?moved=1", grantType: client_credentials, clientId: svc-basic, clientAuth: basic, scope: read, revokeUrl: "\(server.info.revoke_url)" }
        """.write(toFile: moved, atomically: true, encoding: .utf8)
        try cli.ok(["apply", "-f", moved])
        let forgotten = try cli.ok(["auth", "revoke", "Basic"]).stdout
        #expect(forgotten.contains("Basic/service: not revoked: it was obtained under other settings"), "\(forgotten)")
        #expect(try await server.stats()["revocations"] as? Int == 2)
        await server.stop()
    }

    @Test(
        "sigil call: a 401 with INVALID_SESSION_ID makes one new token and one retry, which succeeds; other errors are returned as they are"
    )
    func reactiveRefresh() async throws {
        let cli = CLI()
        let keys = try Keys(directory: cli.home)
        let server = try OAuthServer(directory: cli.home, config: ["clients": clients(keys)])
        try configure(cli, server, keys)
        let first = try cli.ok(["call", "callout:Post/api/me"]).stdout
        #expect(me(first)["sub"] as? String == "svc-post", "\(first)")
        #expect(try await server.tokenRequests() == 1)

        // The provider ends the session early: the cached token (not yet expired) is refused.
        try await server.admin("/_invalidate_access_tokens")
        let retried = try cli.ok(["call", "-i", "callout:Post/api/me"]).stdout
        #expect(retried.hasPrefix("HTTP/1.1 200"), "\(retried)")
        #expect(try await server.tokenRequests() == 2, "one new token")

        // Any other answer is the caller's: no new token, and --fail makes an HTTP error an exit status.
        let denied = try cli.run(["call", "--fail", "callout:Post/api/nowhere"])
        #expect(denied.status == 22, "\(denied.output)")
        #expect(try await server.tokenRequests() == 2, "a 404 is not a refused token")
        await server.stop()
    }
}

/// A loopback port nothing listens on now: the kernel's choice for a socket bound to port 0, then
/// closed. A random port could be one the kernel had just handed to another test's connection.
func freeLoopbackPort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown) }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
        }
    }
    guard bound else { throw CocoaError(.fileWriteUnknown) }
    return Int(UInt16(bigEndian: address.sin_port))
}
