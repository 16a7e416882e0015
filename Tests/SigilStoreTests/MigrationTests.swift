import Foundation
import GRDB
import SigilCore
import SigilModel
import SigilStore
import Testing

/// Vault files written by each shipped schema version, with their (test-only) keys. A new
/// migration ships with a new fixture: `SIGIL_WRITE_FIXTURES=1 swift test --filter writeFixture`.
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
let fixtureKey = try! MasterKey(bytes: SecretBytes(copying: (0..<32).map { UInt8($0 &* 7 &+ 3) }))

@Suite("Schema and migrations")
struct MigrationTests {
    @Test("the migrations compiled into the binary are exactly schema/ENGINE/*.sql", arguments: ["sqlite", "postgres"])
    func embeddedEqualsSchemaFolder(engine: String) throws {
        let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../schema/\(engine)").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: schema.path).filter { $0.hasSuffix(".sql") }
            .sorted()
        let migrations = Schema.migrations(engine: engine)
        #expect(files.map { String($0.dropLast(4)) } == migrations.map(\.identifier), "run scripts/embed")
        for (file, migration) in zip(files, migrations) {
            let text = try String(contentsOf: schema.appendingPathComponent(file), encoding: .utf8)
            #expect(text == migration.sql, "\(engine)/\(file) differs from the embedded copy: run scripts/embed")
        }
        #expect(Schema.latestVersion == files.count)
    }

    @Test("a vault from every shipped schema version opens, upgrades, and keeps everything")
    func upgradeFromEveryVersion() throws {
        for version in 1...Schema.latestVersion {
            let fixture = "\(fixtures)/vault-v\(version).db"
            #expect(FileManager.default.fileExists(atPath: fixture), "no fixture for schema version \(version)")
            guard FileManager.default.fileExists(atPath: fixture) else { continue }
            let path = temporaryDirectory() + "/upgraded.db"
            try FileManager.default.copyItem(atPath: fixture, toPath: path)
            let vault = try Vault.open(at: path, key: .key(fixtureKey), actor: "test")
            #expect(try vault.keyStatus().schemaVersion == Schema.latestVersion)
            #expect(try vault.catalog() == exampleRequest().catalog, "schema v\(version)")
            #expect(try vault.secret(apiKeyTarget) == SecretBytes(utf8: "fixture-secret-v2"))
            #expect(try vault.secret(apiKeyTarget, stage: .previous) == SecretBytes(utf8: "fixture-secret-v1"))
            #expect(try vault.verifyAudit().valid)
            // A vault from before schema 4 gets its catalog MACs with the upgrade, and says so.
            #expect(try vault.verifyCatalog().isEmpty, "schema v\(version)")
            if version < 4 { #expect(try vault.auditEntries(limit: 1).last?.action == "catalog.authenticate") }
        }
    }

    @Test("the upgrade to row sets in buckets keeps refusing a table changed without the key before it")
    func bucketsUpgradeKeepsTamperRefused() throws {
        let path = temporaryDirectory() + "/upgraded.db"
        try FileManager.default.copyItem(atPath: "\(fixtures)/vault-v7.db", toPath: path)
        try DatabaseQueue(path: path).write { try $0.execute(sql: "DELETE FROM secrets WHERE stage = 'previous'") }
        let vault = try Vault.open(at: path, key: .key(fixtureKey), actor: "test")
        #expect(try vault.keyStatus().schemaVersion == Schema.latestVersion)
        #expect(try vault.verifyCatalog().map(\.table) == ["secrets"])
        let error = #expect(throws: SigilError.self) { try vault.snapshot() }
        #expect(error?.code == .catalogTampered)
        // A later write through Sigil does not bless it either.
        try vault.apply(exampleRequest())
        #expect(try vault.verifyCatalog().map(\.table) == ["secrets"])
    }

    @Test("a vault from a newer schema is refused and left untouched")
    func newerSchema() throws {
        let (vault, key, path) = try makeVault()
        try vault.apply(exampleRequest())
        try DatabaseQueue(path: path).write {
            try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('999_from_the_future')")
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let error = #expect(throws: SigilError.self) { try Vault.open(at: path, key: .key(key), actor: "test") }
        #expect(error?.code == .newerSchema)
        #expect(error?.reason.contains("schema version 999") == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test(
        "write the fixture for the current schema version",
        .enabled(if: ProcessInfo.processInfo.environment["SIGIL_WRITE_FIXTURES"] != nil))
    func writeFixture() throws {
        let directory = temporaryDirectory()
        let path = directory + "/fixture.db"
        do {
            let vault = try Vault.create(at: path, key: .key(fixtureKey), actor: "fixture")
            try vault.apply(exampleRequest(apiKey: "fixture-secret-v1"))
            try vault.setSecret(apiKeyTarget, value: SecretBytes(utf8: "fixture-secret-v2"))
        }
        let destination = "\(fixtures)/vault-v\(Schema.latestVersion).db"
        try? FileManager.default.removeItem(atPath: destination)
        try DatabaseQueue(path: path).writeWithoutTransaction { db in
            try db.execute(sql: "VACUUM INTO ?", arguments: [destination])
        }
    }
}

@Suite("Several handles on one vault")
struct ConcurrencyTests {
    @Test("readers never see half an apply")
    func readersSeeAllOrNothing() async throws {
        let (writer, key, path) = try makeVault()
        let reader = try Vault.open(at: path, key: .key(key), actor: "reader")
        let credentials = (0..<60).map { ExternalCredential(name: "Credential\($0)", authProtocol: .none) }
        let request = ApplyRequest(catalog: Catalog(externalCredentials: credentials))
        async let applied: Void = Task.detached { _ = try writer.apply(request) }.value
        let seen = try await Task.detached {
            var counts: Set<Int> = []
            // The reader's kept catalog is checked against the file every 100 ms: poll past that.
            for _ in 0..<400 {
                counts.insert(try reader.catalog().externalCredentials.count)
                if counts.contains(60) { break }
                usleep(10_000)
            }
            return counts
        }.value
        try await applied
        #expect(seen.isSubset(of: [0, 60]), "a reader saw \(seen)")
        try await Task.sleep(for: .milliseconds(150))
        #expect(try reader.catalog().externalCredentials.count == 60)
    }

    @Test("concurrent writers through separate connections both land")
    func concurrentWriters() async throws {
        let (first, key, path) = try makeVault()
        let second = try Vault.open(at: path, key: .key(key), actor: "second")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (vault, prefix) in [(first, "A"), (second, "B")] {
                group.addTask {
                    for index in 0..<15 {
                        _ = try vault.apply(
                            ApplyRequest(
                                catalog: Catalog(externalCredentials: [
                                    ExternalCredential(name: "\(prefix)\(index)", authProtocol: .none)
                                ])))
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try first.catalog().externalCredentials.count == 30)
        #expect(try second.verifyAudit().valid)
    }
}
