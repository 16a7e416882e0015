import Foundation
import SigilCore
import SigilModel
import SigilOperations
import SigilStore
import SigilTokens
import Synchronization
import Testing

@Suite("sigil rotate: staged rotation against real peers (Authlib)", .serialized)
struct RotationAcceptanceTests {
    static let oldSecret = "old-secret-5a1f0c"
    static let newSecret = "new-secret-8c2e71"
    static let wrongSecret = "wrong-secret-000d"

    /// A client credentials client whose accepted secrets the test changes at the provider, as an
    /// operator would at Salesforce's connected app (two secrets at once during a rotation).
    func start(_ cli: CLI) throws -> OAuthServer {
        let server = try OAuthServer(
            directory: cli.home,
            config: [
                "admin_key": Self.adminKey,
                "clients": [
                    [
                        "client_id": "svc", "client_secret": Self.oldSecret,
                        "token_endpoint_auth_method": "client_secret_basic",
                        "grant_types": ["client_credentials"], "scope": "read",
                    ] as [String: Any]
                ],
            ])
        let config = cli.home + "/rotation.yaml"
        try """
        externalCredentials:
          - name: Api
            protocol: oauth2
            parameters: { tokenUrl: "\(server.info.token_url)", grantType: client_credentials, clientId: svc, clientAuth: basic, scope: read }
            principals:
              - { name: service, secrets: { clientSecret: env:API_SECRET } }
          - name: Keys
            protocol: custom
            customHeaders:
              - { name: X-Api-Key, value: "{!$Credential.Keys.apiKey}" }
            principals:
              - { name: org, secrets: { apiKey: env:KEYS_SECRET } }
        namedCredentials:
          - { name: Api, url: "\(server.info.base_url)", externalCredential: Api }
          - { name: Keys, url: "https://keys.example", externalCredential: Keys, generateAuthorizationHeader: false, allowMergeFieldsInHeader: true }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try cli.ok(["init"])
        try cli.ok(
            ["apply", "-f", config], environment: ["API_SECRET": Self.oldSecret, "KEYS_SECRET": "keys-old-value-1"])
        return server
    }

    static let adminKey = "provider-admin-key-0123456789"

    @Test(
        "the oauth-client-secret rotator: Sigil makes the secret, adds it through the provider's API, proves it with a token request, and revokes the old one at clean-up"
    )
    func clientSecretThroughProviderAPI() async throws {
        let cli = CLI()
        let server = try start(cli)
        let config = cli.home + "/admin.yaml"
        try """
        externalCredentials:
          - name: Api
            protocol: oauth2
            parameters: { tokenUrl: "\(server.info.token_url)", grantType: client_credentials, clientId: svc, clientAuth: basic, scope: read }
            rotation:
              rotator: oauth-client-secret
              every: 90d
              grace: 1d
              length: 48
              clientSecrets: { add: "callout:IdpAdmin/clients/svc/secrets", revoke: "callout:IdpAdmin/clients/svc/secrets/revoke" }
            principals:
              - { name: service }
          - name: IdpAdmin
            protocol: custom
            customHeaders:
              - { name: X-Admin-Key, value: "{!$Credential.IdpAdmin.key}" }
            principals:
              - { name: ops, secrets: { key: env:ADMIN_KEY } }
        namedCredentials:
          - { name: IdpAdmin, url: "\(server.info.base_url)/admin", externalCredential: IdpAdmin, allowMergeFieldsInHeader: true }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try cli.ok(["apply", "-f", config], environment: ["ADMIN_KEY": Self.adminKey])
        #expect(try fetch(cli))
        // Without a value given, the policy makes one (48 characters) and adds it at the provider.
        let run = try cli.ok(["rotate", "run", "Api/service"]).stdout
        #expect(run.contains("started, tested, finished"), "\(run)")
        let tested = try cli.ok(["audit", "list", "--limit", "10"]).stdout
        #expect(tested.contains("rotation.test") && tested.contains("oauth-client-secret"))
        // Tokens are obtained with the new secret from now on.
        try await server.admin("/_invalidate_access_tokens")
        #expect(try fetch(cli))
        // Both secrets are accepted during the grace period; after it, the old one is revoked.
        #expect(try await tokenStatus(server, secret: Self.oldSecret) == 200)
        try cli.ok(["rotate", "cleanup", "Api/service", "--grace", "0"])
        #expect(try await tokenStatus(server, secret: Self.oldSecret) == 401)
        try await server.admin("/_invalidate_access_tokens")
        #expect(try fetch(cli))
        #expect(try cli.ok(["audit", "list", "--limit", "5"]).stdout.contains("rotation.provider-retire"))
        // The provider's API refuses a wrong key: the step fails and says where.
        try cli.ok(["secret", "set", "IdpAdmin/ops", "key"], stdin: "not-the-admin-key")
        let refused = try cli.run(["rotate", "run", "Api/service"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("adding the new client secret of principal Api/service"), "\(refused.stderr)")
        #expect(refused.stderr.contains("was answered 401"), "\(refused.stderr)")
        // Rolled back even though the provider refuses to revoke the abandoned secret; the
        // operator is told what is left to do.
        let rolledBack = try cli.run(["rotate", "rollback", "Api/service"])
        #expect(
            rolledBack.stderr.contains("rolled back, but the abandoned new value could not be retired"),
            "\(rolledBack.stderr)")
        #expect(try cli.ok(["rotate", "status", "Api/service"]).stdout.contains("rolled-back"))
        #expect(try fetch(cli))
        await server.stop()
    }

    /// A client credentials token request with `secret` straight to the provider: its status.
    func tokenStatus(_ server: OAuthServer, secret: String) async throws -> Int {
        let basic = Data("svc:\(secret)".utf8).base64EncodedString()
        return try await server.http.send(
            .init(
                method: "POST", url: server.info.token_url,
                headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Authorization", "Basic \(basic)")],
                body: Array("grant_type=client_credentials&scope=read".utf8)),
            purpose: "token request"
        ).status
    }

    /// Signs `callout:Api/api/me` and sends it to the provider's protected resource.
    func call(_ cli: CLI, _ server: OAuthServer) async throws -> Int {
        let signed = try cli.run(["sign", "--json", "callout:Api/api/me"])
        guard signed.status == 0 else { return -1 }
        return try await server.send(signedJSON: signed.stdout).status
    }

    /// `sigil call --fail callout:Api/api/me`: a refused token is replaced once (a new token
    /// request with the current client secret) and the call retried.
    func fetch(_ cli: CLI) throws -> Bool {
        try cli.run(["call", "--fail", "callout:Api/api/me"]).status == 0
    }

    @Test(
        "an OAuth 2.0 client secret: a failing test leaves current alone; finish keeps tokens valid, new ones use the new secret; rollback; clean-up"
    )
    func oauthClientSecret() async throws {
        let cli = CLI()
        let server = try start(cli)
        #expect(try await call(cli, server) == 200)

        // A wrong new secret fails its test (a real token request); current is untouched.
        try cli.ok(["rotate", "start", "Api/service"], stdin: Self.wrongSecret)
        let failed = try cli.run(["rotate", "test", "Api/service"])
        #expect(failed.status != 0)
        #expect(failed.stderr.contains("failed its test; current is unchanged"), "\(failed.stderr)")
        #expect(!failed.output.contains(Self.wrongSecret))
        let status = try cli.ok(["rotate", "status", "Api/service", "--json"]).stdout
        #expect(status.contains("\"step\" : \"started\"") && status.contains("lastError"), "\(status)")
        #expect(try cli.run(["rotate", "finish", "Api/service"]).status != 0)
        #expect(try await call(cli, server) == 200)
        try cli.ok(["rotate", "rollback", "Api/service"])

        // The provider accepts a second secret; Sigil rotates to it.
        try await server.admin("/_client_secrets", [("client_id", "svc"), ("add", Self.newSecret)])
        try cli.ok(["rotate", "start", "Api/service"], stdin: Self.newSecret)
        #expect(
            try cli.ok(["rotate", "start", "Api/service"], stdin: Self.newSecret).stdout.contains("Already started"))
        let tested = try cli.ok(["rotate", "test", "Api/service"]).stdout
        #expect(tested.contains("client credentials token request succeeded"), "\(tested)")
        let requestsBefore = try await server.tokenRequests()
        try cli.ok(["rotate", "finish", "Api/service"])
        #expect(try cli.ok(["rotate", "finish", "Api/service"]).stdout.contains("Already finished"))
        // The token obtained with the old secret stays in use until it expires.
        #expect(try await call(cli, server) == 200)
        #expect(try await server.tokenRequests() == requestsBefore)
        // The provider retires the old secret; a new token is obtained with the new one.
        try await server.admin("/_client_secrets", [("client_id", "svc"), ("revoke", Self.oldSecret)])
        try await server.admin("/_invalidate_access_tokens")
        #expect(try fetch(cli))
        #expect(try await server.tokenRequests() > requestsBefore)

        // Rolled back, the old (now revoked) secret is current again: new tokens fail.
        try cli.ok(["rotate", "rollback", "Api/service"])
        try await server.admin("/_invalidate_access_tokens")
        #expect(try !fetch(cli))
        // Forward again, all steps at once, then the previous value deleted.
        let run = try cli.ok(["rotate", "run", "Api/service", "--grace", "0"], stdin: Self.newSecret).stdout
        #expect(run.contains("started, tested, finished, cleaned"), "\(run)")
        #expect(try fetch(cli))
        let show = try cli.ok(["show", "Api/service"]).stdout
        #expect(!show.contains("previous"), "\(show)")

        let audit = try cli.ok(["audit", "list", "--action", "rotation"]).stdout
        for action in [
            "rotation.start", "rotation.test-failed", "rotation.test", "rotation.finish", "rotation.rollback",
        ] {
            #expect(audit.contains(action), "\(action) in \(audit)")
        }
        for secret in [Self.oldSecret, Self.newSecret, Self.wrongSecret] {
            #expect(!CLI.transcriptLock.withLock { CLI.transcript }.contains { $0.contains(secret) })
        }
        await server.stop()
    }

    @Test("a generated value: drawn from the alphabet, never printed, and what requests carry once finished")
    func generated() async throws {
        let cli = CLI()
        let server = try start(cli)
        let before = try cli.ok(["sign", "callout:Keys/x"]).stdout
        #expect(before.contains("X-Api-Key: keys-old-value-1"))
        let run = try cli.ok([
            "rotate", "run", "Keys/org", "--generate", "--length", "32", "--alphabet", "abcdef0123456789",
        ])
        #expect(run.stdout.contains("started, tested, finished"), "\(run.stdout)")
        let after = try cli.ok(["sign", "callout:Keys/x"]).stdout
        let value = try #require(after.split(separator: "\n").first { $0.hasPrefix("X-Api-Key: ") }?.dropFirst(11))
        #expect(value.count == 32 && value.allSatisfy { "abcdef0123456789".contains($0) }, "\(value)")
        #expect(!run.output.contains(String(value)))
        let status = try cli.ok(["rotate", "status", "Keys/org"]).stdout
        #expect(status.contains("finished (apiKey, generated)"), "\(status)")
        // A too-short length or a poor alphabet is refused before anything is stored.
        #expect(try cli.run(["rotate", "start", "Keys/org", "--generate", "--length", "8"]).status != 0)
        #expect(try cli.run(["rotate", "start", "Keys/org", "--generate", "--alphabet", "ab"]).status != 0)
        #expect(try cli.ok(["sign", "callout:Keys/x"]).stdout.contains(String(value)))
        await server.stop()
    }

    @Test("a test request sent with the pending value: a value the resource refuses fails the test")
    func testRequest() async throws {
        let cli = CLI()
        let server = try start(cli)
        // Bearer tokens kept as a custom header's secret, checked by the provider's resource.
        let config = cli.home + "/bearer.yaml"
        try """
        externalCredentials:
          - name: Me
            protocol: custom
            customHeaders:
              - { name: Authorization, value: "Bearer {!$Credential.Me.token}" }
            principals:
              - { name: bot, secrets: { token: env:ME_TOKEN } }
        namedCredentials:
          - { name: Me, url: "\(server.info.base_url)", externalCredential: Me, generateAuthorizationHeader: false, allowMergeFieldsInHeader: true }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        func token() async throws -> String {
            let response = try await server.http.send(
                .init(
                    method: "POST", url: server.info.token_url,
                    headers: [
                        ("Content-Type", "application/x-www-form-urlencoded"),
                        ("Authorization", "Basic " + Data("svc:\(Self.oldSecret)".utf8).base64EncodedString()),
                    ], body: Array("grant_type=client_credentials".utf8)), purpose: "a token for the test")
            let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
            return try #require(object?["access_token"] as? String)
        }
        try cli.ok(["apply", "-f", config], environment: ["ME_TOKEN": try await token()])
        let request = ["--request", "callout:Me/api/me", "--expect", "200"]
        let refused = try cli.run(["rotate", "run", "Me/bot", "--generate"] + request)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("answered 401, expected 200"), "\(refused.stderr)")
        try cli.ok(["rotate", "rollback", "Me/bot"])
        let fresh = try await token()
        try cli.ok(["rotate", "start", "Me/bot"], stdin: fresh)
        let tested = try cli.ok(["rotate", "test", "Me/bot"] + request).stdout
        #expect(tested.contains("answered 200"), "\(tested)")
        try cli.ok(["rotate", "finish", "Me/bot"])
        #expect(try cli.ok(["sign", "callout:Me/api/me"]).stdout.contains("Bearer \(fresh)"))
        await server.stop()
    }

    @Test("rotation policies: applied, exported, checked at apply; due lists them; run follows the policy")
    func policies() async throws {
        let cli = CLI()
        let server = try start(cli)
        let config = cli.home + "/policies.yaml"
        try """
        externalCredentials:
          - name: Keys
            protocol: custom
            customHeaders:
              - { name: X-Api-Key, value: "{!$Credential.Keys.apiKey}" }
            rotation: { rotator: generated, every: 30d, grace: "0", length: 24, alphabet: "0123456789abcdef" }
            principals:
              - { name: org }
          - name: Api
            protocol: oauth2
            parameters: { tokenUrl: "\(server.info.token_url)", grantType: client_credentials, clientId: svc, clientAuth: basic, scope: read }
            principals:
              - name: service
                rotation: { rotator: manual, every: 90d, testRequest: { url: "callout:Api/api/me", expect: [200] } }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try cli.ok(["apply", "-f", config])
        let export = try cli.ok(["export"]).stdout
        #expect(export.contains("every: 30d") && export.contains("every: 90d") && export.contains("rotator: generated"))
        try export.write(toFile: cli.home + "/export.yaml", atomically: true, encoding: .utf8)
        let again = try cli.ok(["apply", "-f", cli.home + "/export.yaml"]).stdout
        #expect(again.contains("0 created, 0 updated"), "\(again)")

        let due = try cli.ok(["rotate", "due"]).stdout
        #expect(due.contains("principal Keys/org apiKey  generated  due 20"), "\(due)")
        #expect(due.contains("principal Api/service clientSecret  manual  due 20"), "\(due)")
        let vault = try Vault.open(at: cli.vaultPath, key: .keyFile(path: cli.keyPath), actor: "test")
        let later = try Rotation.due(in: vault, at: Date().addingTimeInterval(31 * 86_400))
        #expect(later.first { $0.principal == "Keys/org" }?.due == true)
        #expect(later.first { $0.principal == "Api/service" }?.due == false)

        // The expiry calendar measures secrets against their policy (else 90 days).
        let calendar = try cli.ok(["expiry", "--within", "31d"]).stdout
        #expect(
            calendar.contains("secret rotation  Keys/org apiKey  reaches its rotation age of 30d (its policy)"),
            "\(calendar)")
        #expect(!calendar.contains("Api/service"))
        #expect(try cli.ok(["expiry", "--within", "1d"]).stdout.contains("Nothing expires or falls due within 1d"))
        let year = try cli.ok(["expiry", "--within", "365d", "--json"]).stdout
        #expect(year.contains("\"item\" : \"Api\\/service clientSecret\"") || year.contains("Api/service clientSecret"))
        #expect(try cli.run(["expiry", "--within", "soon"]).status == 64)

        // run follows the policy: generated, 24 hexadecimal characters, cleaned at once (grace 0).
        let run = try cli.ok(["rotate", "run", "Keys/org"]).stdout
        #expect(run.contains("started, tested, finished, cleaned"), "\(run)")
        let value = try #require(
            try cli.ok(["sign", "callout:Keys/x"]).stdout.split(separator: "\n").first { $0.hasPrefix("X-Api-Key: ") }?
                .dropFirst(11))
        #expect(value.count == 24 && value.allSatisfy { "0123456789abcdef".contains($0) }, "\(value)")

        // Policies are checked at apply, naming the file, line and field; nothing is written.
        for (policy, problem) in [
            (
                "{ rotator: command, every: 30d }",
                "rotation.command: is missing: the command rotator needs command.path"
            ),
            (
                "{ rotator: command, every: 30d, command: { path: rotate.sh } }",
                "command.path: must be an absolute path"
            ),
            (
                "{ rotator: generated, every: 30d, aws: { userName: x } }",
                "rotation.aws: is for the aws-iam-access-key rotator"
            ),
            ("{ rotator: shuffle, every: 30d }", "is not a rotator; use manual, generated, aws-iam-access-key"),
            (
                "{ rotator: oauth-client-secret, every: 30d, clientSecrets: { add: https://idp.example/x } }",
                "clientSecrets.add: must be callout:NAME/path"
            ),
            ("{ rotator: generated, every: 10m }", "rotation.every: must be at least 1h"),
            ("{ rotator: generated, every: soon }", "is not a duration"),
            ("{ rotator: generated, every: 30d, length: 8 }", "rotation.length: must be 16 to 4096"),
        ] {
            let bad = cli.home + "/bad.yaml"
            try """
            externalCredentials:
              - name: Keys
                protocol: custom
                rotation: \(policy)
            """.write(toFile: bad, atomically: true, encoding: .utf8)
            let refused = try cli.run(["apply", "-f", bad])
            #expect(refused.status != 0 && refused.stderr.contains(problem), "\(policy): \(refused.stderr)")
        }
        #expect(try cli.ok(["export"]).stdout.contains("every: 30d"))
        await server.stop()
    }

    @Test(
        "no request fails while a client secret rotates: four processes call the provider's resource from start to clean-up"
    )
    func zeroFailures() async throws {
        let cli = CLI()
        let server = try start(cli)
        #expect(try fetch(cli))
        let stop = StopFlag()
        let results = Mutex<(calls: Int, failures: [String])>((0, []))
        let group = DispatchGroup()
        // Callers on threads of their own (each run waits for a process): the test's own steps
        // keep the cooperative pool.
        for _ in 0..<4 {
            DispatchQueue.global().async(group: group) {
                // Bounded: at most 400 calls each, until the rotation is over.
                var calls = 0
                while calls < 400, !stop.isSet {
                    let result = try? cli.run(["call", "--fail", "callout:Api/api/me"])
                    calls += 1
                    results.withLock { results in
                        results.calls += 1
                        if result?.status != 0 { results.failures.append(result?.stderr ?? "did not run") }
                    }
                }
            }
        }
        func pause() async throws { try await Task.sleep(for: .milliseconds(300)) }
        try await pause()
        try await server.admin("/_client_secrets", [("client_id", "svc"), ("add", Self.newSecret)])
        try cli.ok(["rotate", "start", "Api/service"], stdin: Self.newSecret)
        try await pause()
        try cli.ok(["rotate", "test", "Api/service"])
        try await pause()
        try cli.ok(["rotate", "finish", "Api/service"])
        try await pause()
        // The tokens obtained with the old secret expire (here: all at once); new ones are obtained
        // with the new secret while the provider still accepts both...
        try await server.admin("/_invalidate_access_tokens")
        try await pause()
        // ...and after the grace period the provider retires the old one and Sigil deletes it.
        try await server.admin("/_client_secrets", [("client_id", "svc"), ("revoke", Self.oldSecret)])
        try cli.ok(["rotate", "cleanup", "Api/service", "--grace", "0"])
        try await server.admin("/_invalidate_access_tokens")
        try await pause()
        stop.set()
        group.wait()
        let (calls, failures) = results.withLock { $0 }
        print("rotation under load: \(calls) calls by 4 processes, \(failures.count) failed")
        #expect(failures.isEmpty, "\(failures.count) of \(calls) calls failed: \(failures.prefix(3))")
        #expect(calls >= 8, "only \(calls) calls during the rotation")
        await server.stop()
    }

    @Test("the expiry calendar lists a refresh token whose provider states its lifetime, and keeps it across refreshes")
    func refreshTokenLifetime() async throws {
        let cli = CLI()
        let server = try OAuthServer(
            directory: cli.home,
            config: [
                "client_credentials_refresh_token": true, "refresh_token_lifetime": 86_400,
                "rotate_refresh_tokens": false,
                "clients": [
                    [
                        "client_id": "svc", "client_secret": Self.oldSecret,
                        "token_endpoint_auth_method": "client_secret_basic",
                        "grant_types": ["client_credentials", "refresh_token"], "scope": "read",
                    ] as [String: Any]
                ],
            ])
        let config = cli.home + "/refresh.yaml"
        try """
        externalCredentials:
          - name: Api
            protocol: oauth2
            parameters: { tokenUrl: "\(server.info.token_url)", grantType: client_credentials, clientId: svc, clientAuth: basic, scope: read }
            principals:
              - { name: service, secrets: { clientSecret: env:API_SECRET } }
        namedCredentials:
          - { name: Api, url: "\(server.info.base_url)", externalCredential: Api }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try cli.ok(["init"])
        try cli.ok(["apply", "-f", config], environment: ["API_SECRET": Self.oldSecret])
        #expect(try fetch(cli))
        let calendar = try cli.ok(["expiry", "--within", "2d"]).stdout
        #expect(calendar.contains("refresh token  Api/service  the refresh token expires"), "\(calendar)")
        #expect(!(try cli.ok(["expiry", "--within", "12h"]).stdout.contains("refresh token")))
        // A refresh that returns no new refresh token keeps the old one, and its expiry.
        try await server.admin("/_invalidate_access_tokens")
        #expect(try fetch(cli))
        #expect(try await server.count(grant: "refresh_token") == 1)
        #expect(try cli.ok(["expiry", "--within", "2d"]).stdout.contains("refresh token  Api/service"))
        let status = try cli.ok(["auth", "status", "--json"]).stdout
        #expect(status.contains("refreshExpiresAt"), "\(status)")
        await server.stop()
    }
}

/// A flag one task sets and others read.
final class StopFlag: Sendable {
    private let flag = Mutex(false)
    var isSet: Bool { flag.withLock { $0 } }
    func set() { flag.withLock { $0 = true } }
}
