import Foundation
import SigilTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Several `sigil serve` replicas on one PostgreSQL vault, as a team runs them behind a load
/// balancer: the catalog cached in each and invalidated by the others' changes, one token refresh
/// across all of them, a killed refresher taken over, and a database that goes away and comes back.
@Suite("replicas: sigil serve processes sharing a PostgreSQL vault", .serialized)
struct ReplicaTests {
    static let postgresOnly = TestStore.all.filter { $0 == .postgres }

    /// Polls `condition` every 100 ms for at most `seconds`; whether it held.
    func eventually(within seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return try condition()
    }

    /// `storm_callers.py`: `count` callers at once, spread over `replicas`.
    func storm(_ replicas: [ServeProcess], key: String, count: Int) throws -> [String: Any] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Interop/storm_callers.py").standardized.path
        let result = try shell(
            ["python3", script, "--key", key, "--count", "\(count)", "--url", "callout:Basic/api/me"]
                + replicas.map(\.url))
        #expect(result.status == 0)
        return (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any] ?? [:]
    }

    func sign(_ replica: ServeProcess, key: String, _ url: String) throws -> (status: Int, body: String) {
        let answer = try curl([
            "-H", "Authorization: Bearer \(key)", "-X", "POST", "-d", #"{"method": "GET", "url": "\#(url)"}"#,
            replica.url + "/v1/sign",
        ])
        return (answer.status, String(decoding: answer.body, as: UTF8.self))
    }

    @Test(
        "three replicas: a change through one is seen by all; 300 callers on an expired token with refresh-token rotation cause one token request and no reuse; kill -9 of the lease holder mid-refresh: another completes it, no caller gets a revoked token",
        arguments: postgresOnly)
    func storm(store: TestStore) async throws {
        var cli = CLI()
        cli.environment["SIGIL_VAULT"] = try store.newVaultLocation(in: cli.home)
        let keys = try OAuthAcceptanceTests.Keys(directory: cli.home)
        let lifetime = 6.0
        let server = try OAuthServer(
            directory: cli.home,
            config: [
                "clients": OAuthAcceptanceTests().clients(keys), "access_token_lifetime": Int(lifetime),
                "rotate_refresh_tokens": true, "client_credentials_refresh_token": true,
            ])
        try OAuthAcceptanceTests().configure(cli, server, keys, refreshMargin: "0")
        let key = try ServeAcceptanceTests().appKey(cli, principals: ["Basic/service"])
        try cli.ok(["token", "Basic"])
        let obtained = Date()
        #expect(try await server.tokenRequests() == 1)
        let replicas = try (0..<3).map { _ in try ServeProcess(cli) }
        defer { for replica in replicas { replica.terminate() } }

        // The catalog, cached in each replica, follows a change made elsewhere (here by the CLI).
        for replica in replicas {
            let unknown = try sign(replica, key: key, "callout:Other/x")
            #expect(unknown.status >= 400 && unknown.body.contains("Other"), "\(unknown)")
        }
        let other = cli.home + "/other.yaml"
        try """
        namedCredentials:
          - { name: Other, url: "\(server.info.base_url)/v2", externalCredential: Basic }
        """.write(toFile: other, atomically: true, encoding: .utf8)
        try cli.ok(["apply", "-f", other])
        for replica in replicas {
            #expect(try eventually(within: 2) { try sign(replica, key: key, "callout:Other/x").body.contains("/v2/x") })
        }

        // The storm: every replica has the token cached; once it expired, 300 callers at once.
        // On a loaded machine the set-up above can outlast the token, and a sign in it refreshed
        // the token already: then the live token is younger than `obtained`, and the storm waits
        // for it to expire too. Only the storm's own token requests are counted.
        let beforeStorm = try await server.stats()
        let refreshedInSetUp = (beforeStorm["token_requests"] as? Int ?? 0) > 1
        let expiry = (refreshedInSetUp ? Date() : obtained).addingTimeInterval(lifetime + 0.5).timeIntervalSinceNow
        if expiry > 0 { try await Task.sleep(for: .seconds(expiry)) }
        try await server.admin("/_delay", [("seconds", "0.5")])
        let stormStarted = Date()
        let result = try storm(replicas, key: key, count: 300)
        #expect(result["statuses"] as? [String: Int] == ["200": 300], "\(result)")
        let authorizations = result["authorizations"] as? [String] ?? []
        #expect(authorizations.count == 1, "\(authorizations.count) distinct tokens")
        let stats = try await server.stats()
        func refreshes(_ stats: [String: Any]) -> Int { (stats["by_grant"] as? [String: Int])?["refresh_token"] ?? 0 }
        #expect(
            (stats["token_requests"] as? Int ?? 0) - (beforeStorm["token_requests"] as? Int ?? 0) == 1,
            "\(beforeStorm) then \(stats)")
        #expect(refreshes(stats) - refreshes(beforeStorm) == 1, "\(beforeStorm) then \(stats)")
        #expect(stats["failed_token_requests"] as? Int == 0, "a refresh token was reused: \(stats)")
        // The token handed out is the live one (not revoked), unless a loaded machine took the
        // storm past its lifetime (the refresh began when the storm did).
        if let token = authorizations.first, Date() < stormStarted.addingTimeInterval(lifetime - 1) {
            #expect(try curl(["-H", "Authorization: \(token)", server.info.base_url + "/api/me"]).status == 200)
        }

        // Mid-refresh kill: the token expires again, replica 0 alone starts the refresh (the token
        // endpoint answers after 3 s), and is killed while it holds the lease.
        try await Task.sleep(for: .seconds(lifetime + 0.5))
        try await server.admin("/_delay", [("seconds", "3")])
        let first = Process()
        first.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        first.arguments = [
            "curl", "-sS", "-o", "/dev/null", "--max-time", "60", "-H", "Authorization: Bearer \(key)", "-X", "POST",
            "-d", #"{"method": "GET", "url": "callout:Basic/api/me"}"#, replicas[0].url + "/v1/sign",
        ]
        first.standardError = FileHandle.nullDevice
        try first.run()
        let pid = replicas[0].process.processIdentifier
        let holding = try eventually(within: 10) {
            try TestStore.rawValue(
                cli.vaultPath, "SELECT lease_holder FROM issued_credentials WHERE lease_holder IS NOT NULL")?
                .contains("/\(pid)/") == true
        }
        #expect(holding, "replica 0 never took the refresh lease")
        try await Task.sleep(for: .milliseconds(500))
        kill(pid, SIGKILL)
        replicas[0].process.waitUntilExit()
        first.waitUntilExit()
        let takenOver = Date()
        let after = try storm(Array(replicas[1...]), key: key, count: 60)
        #expect(after["statuses"] as? [String: Int] == ["200": 60], "\(after)")
        let fresh = after["authorizations"] as? [String] ?? []
        #expect(fresh.count == 1 && fresh != authorizations, "\(fresh)")
        // Within the lease time (60 s): a holder on this machine that no longer runs is taken over
        // at once; one elsewhere when its lease ends.
        #expect(Date().timeIntervalSince(takenOver) < 60)
        if let token = fresh.first {
            #expect(try curl(["-H", "Authorization: \(token)", server.info.base_url + "/api/me"]).status == 200)
        }
        await server.stop()
    }

    /// `scripts/postgres`, through Python's subprocess, which closes the descriptors a child
    /// would otherwise inherit: the server it starts outlives the call and must not hold this
    /// process's pipes.
    func postgres(_ script: String, _ command: String, _ directory: String) throws -> (status: Int32, stdout: String) {
        try shell([
            "python3", "-c",
            "import subprocess, sys; r = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL); sys.stdout.buffer.write(r.stdout); sys.exit(r.returncode)",
            script, command, directory,
        ])
    }

    @Test(
        "a replica that loses its database stops answering /readyz with a clear reason, and recovers by itself when it returns",
        arguments: postgresOnly)
    func databaseLoss(store: TestStore) async throws {
        // A server of this test's own, stopped and started again on the same port.
        var cli = CLI()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../scripts/postgres").standardized.path
        let directory = cli.home + "/postgres"
        let started = try postgres(script, "start", directory)
        #expect(started.status == 0)
        defer { _ = try? postgres(script, "stop", directory) }
        cli.environment["SIGIL_VAULT"] = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        cli.environment["PGPASSWORD"] = "not-needed-but-never-shown"
        try cli.ok(["init"])
        let config = cli.home + "/config.yaml"
        try """
        externalCredentials:
          - { name: Api, protocol: custom, customHeaders: [{ name: X-Key, value: "{!$Credential.Api.key}" }], principals: [{ name: org, secrets: { key: env:API_KEY } }] }
        namedCredentials:
          - { name: Api, url: "https://api.example", externalCredential: Api, generateAuthorizationHeader: false, allowMergeFieldsInHeader: true }
        users: [{ name: app }]
        grants: [{ principal: Api/org, to: [user:app] }]
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try cli.ok(["apply", "-f", config], environment: ["API_KEY": "k-1"])
        let key = try cli.ok(["apikey", "create", "app"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let serve = try ServeProcess(cli)
        defer { serve.terminate() }
        #expect(try curl([serve.url + "/readyz"]).status == 200)

        #expect(try postgres(script, "stop", directory).status == 0)
        #expect(try eventually(within: 10) { try curl([serve.url + "/readyz"]).status == 503 })
        let reason = String(decoding: try curl([serve.url + "/readyz"]).body, as: UTF8.self)
        #expect(reason.contains("not ready") && reason.contains("vault"), "\(reason)")
        #expect(!reason.contains("not-needed-but-never-shown"))
        #expect(try curl([serve.url + "/healthz"]).status == 200)
        let refused = try sign(serve, key: key, "callout:Api/x")
        #expect(refused.status == 503 || refused.status == 500, "\(refused)")
        #expect(!refused.body.contains("k-1") && !refused.body.contains("not-needed-but-never-shown"))

        #expect(try postgres(script, "start", directory).status == 0)
        #expect(try eventually(within: 30) { try curl([serve.url + "/readyz"]).status == 200 })
        let signed = try sign(serve, key: key, "callout:Api/x")
        #expect(signed.status == 200 && signed.body.contains("k-1"), "\(signed)")
        #expect(!serve.log.contains("not-needed-but-never-shown"))
    }
}
