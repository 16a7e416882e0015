import Foundation
import SigilCore
import SigilHTTP
import SigilModel
import SigilSigning
import SigilStore
import Synchronization
import Testing

/// A vault that counts the reads of principals' secrets (each one a SQLite read and unsealing).
final class CountingSource: CredentialSource {
    let vault: Vault
    let reads = Mutex(0)
    /// Catalog readings the engine asked for (each one a check of the vault's version).
    let snapshots = Mutex(0)

    init(_ vault: Vault) {
        self.vault = vault
    }

    func catalog() throws -> Catalog { try vault.catalog() }
    func snapshot() throws -> CatalogSnapshot { try snapshotAndSecretsVersion().0 }
    func snapshotAndSecretsVersion() throws -> (CatalogSnapshot, secretsVersion: [UInt8]?) {
        snapshots.withLock { $0 += 1 }
        return try vault.snapshotAndSecretsVersion()
    }
    func secret(_ target: SecretTarget, stage: SecretStage) throws -> SecretBytes? {
        try vault.secret(target, stage: stage)
    }
    func authorizedUsers(of principal: PrincipalRef) throws -> Set<String> { try vault.authorizedUsers(of: principal) }
    func principalSecrets(of key: IssuedCredentialKey, type: PrincipalType, consistentWith snapshot: CatalogSnapshot)
        throws -> [String: SecretBytes]?
    {
        reads.withLock { $0 += 1 }
        return try vault.principalSecrets(of: key, type: type, consistentWith: snapshot)
    }
}

@Suite("Prepared routes: unsealed secrets kept for a bounded time, dropped when a secret or the catalog changes")
struct PreparedRouteTests {
    static let config = """
        externalCredentials:
          - name: Api
            protocol: basic
            parameters: { username: app }
            principals:
              - { name: p, secrets: { password: env:PASSWORD } }
        namedCredentials:
          - { name: Api, url: "https://api.example", externalCredential: Api }

        """

    func authorization(_ engine: SigningEngine) async throws -> String {
        try await engine.decorate(OutboundRequest(url: "callout:Api/x")).headers.first { $0.name == "Authorization" }!
            .value
    }

    func basic(_ password: String, user: String = "app") -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }

    /// A vault with the Basic credential of ``config`` (its password `one`), opened in this process.
    func vault(_ cli: CLI, config: String = config) throws -> Vault {
        try cli.ok(["init"])
        try config.write(toFile: cli.home + "/c.yaml", atomically: true, encoding: .utf8)
        try cli.ok(["apply", "-f", cli.home + "/c.yaml"], environment: ["PASSWORD": "one"])
        return try Vault.open(at: cli.vaultPath, key: .keyFile(path: cli.keyPath), actor: "test")
    }

    /// Whether `engine`'s Authorization becomes `expected` within about 2.5 s (another process's
    /// write is seen within the vault's revalidation, 100 ms).
    func becomes(_ expected: String, _ engine: SigningEngine) async throws -> Bool {
        for _ in 0..<50 {
            if try await authorization(engine) == expected { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    @Test(
        "read once and reused; a new secret, through this handle or another process, is used at once or within the vault's revalidation"
    )
    func secretsKept() async throws {
        let cli = CLI()
        let vault = try vault(cli)
        let source = CountingSource(vault)
        let engine = SigningEngine(source: source, preparedSecretLifetime: .seconds(600))
        for _ in 0..<5 { #expect(try await authorization(engine) == basic("one")) }
        #expect(source.reads.withLock { $0 } == 1)

        // Through this handle: the next request reads the new value.
        _ = try vault.setSecret(
            SecretTarget(owner: .principal(PrincipalRef(externalCredential: "Api", principal: "p")), field: "password"),
            value: SecretBytes(utf8: "two"))
        #expect(try await authorization(engine) == basic("two"))
        #expect(try await authorization(engine) == basic("two"))
        #expect(source.reads.withLock { $0 } == 2)

        // Through another process: seen once the vault notices the commit (every 100 ms at most).
        try cli.ok(["secret", "set", "Api/p", "password"], stdin: "three\n")
        #expect(try await becomes(basic("three"), engine))

        // A change of the catalog drops the prepared routes with their secrets.
        let before = source.reads.withLock { $0 }
        try Self.config.replacingOccurrences(of: "username: app", with: "username: app2").write(
            toFile: cli.home + "/c.yaml", atomically: true, encoding: .utf8)
        try cli.ok(["apply", "-f", cli.home + "/c.yaml"], environment: ["PASSWORD": "four"])
        #expect(try await becomes(basic("four", user: "app2"), engine))
        #expect(source.reads.withLock { $0 } > before)

        // Dropped on demand (a service's timer), and read again.
        let reads = source.reads.withLock { $0 }
        engine.dropPreparedSecrets()
        #expect(try await authorization(engine) == basic("four", user: "app2"))
        #expect(source.reads.withLock { $0 } == reads + 1)
    }

    @Test("a zero lifetime keeps nothing; a short one expires")
    func lifetime() async throws {
        let cli = CLI()
        let vault = try vault(cli)

        let none = CountingSource(vault)
        let uncached = SigningEngine(source: none, preparedSecretLifetime: .zero)
        for _ in 0..<3 { _ = try await authorization(uncached) }
        #expect(none.reads.withLock { $0 } == 3)

        let short = CountingSource(vault)
        let expiring = SigningEngine(source: short, preparedSecretLifetime: .milliseconds(20))
        _ = try await authorization(expiring)
        try await Task.sleep(for: .milliseconds(60))
        _ = try await authorization(expiring)
        #expect(short.reads.withLock { $0 } == 2)

        // Longer than the maximum is held to the maximum.
        #expect(
            SigningEngine(source: none, preparedSecretLifetime: .seconds(86_400)).preparedSecretLifetime
                == SigningEngine.maximumPreparedSecretLifetime)
    }

    @Test(
        "the executor carries the prepared request through a redirect inside the endpoint: one catalog reading, one secrets reading"
    )
    func carriedThroughRedirects() async throws {
        let cli = CLI()
        let server = try InteropPeer<TransferServer.Info>(
            "transfer_server.py", [cli.home + "/transfer.json"], infoPath: cli.home + "/transfer.json")
        defer { server.stop() }
        let vault = try vault(
            cli,
            config: Self.config.replacingOccurrences(of: "https://api.example", with: server.info.base_url + "/api")
                + "  - { name: Log, url: \"\(server.info.base_url)/\", externalCredential: Api }\n")
        let source = CountingSource(vault)
        let executor = Executor(engine: SigningEngine(source: source, preparedSecretLifetime: .zero))
        let response: Executor.Response
        do {
            response = try await executor.send(OutboundRequest(url: "callout:Api/redirect?code=307&to=/api/final"))
        } catch {
            try? await executor.shutdown()
            throw error
        }
        try await executor.shutdown()
        #expect(response.status == 200)
        #expect(source.snapshots.withLock { $0 } == 1, "the redirect is decorated from the prepared route")
        // Without keeping secrets (lifetime zero), each decoration reads them: two.
        #expect(source.reads.withLock { $0 } == 2)
        let log = try JSONDecoder().decode(
            [TransferServer.Entry].self, from: Data(cli.ok(["call", "callout:Log/_log"]).stdout.utf8))
        #expect(log.first { $0.path == "/api/final" }?.header("Authorization") == basic("one"))
    }
}
