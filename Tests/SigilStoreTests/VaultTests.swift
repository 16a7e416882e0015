import Foundation
import GRDB
import SigilCore
import SigilModel
import SigilStore
import SigilTestSupport
import Testing

@Suite("Vault: create, open, apply")
struct VaultTests {
    @Test("a created vault opens with its key and is private to its owner")
    func createAndOpen() throws {
        let (vault, key, path) = try makeVault()
        #expect(try vault.keyStatus().keys.map(\.purpose) == ["data", "audit"])
        let reopened = try Vault.open(at: path, key: .key(key), actor: "test")
        #expect(reopened.keyring.vaultID == vault.keyring.vaultID)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let error = #expect(throws: SigilError.self) { try Vault.create(at: path, key: .key(key), actor: "test") }
        #expect(error?.code == .vaultExists)
    }

    @Test(
        "on PostgreSQL: a created vault opens with its key; a second create, a wrong key, a bad URL and an unreachable server are clear errors"
    )
    func postgresCreateAndOpen() throws {
        guard TestStore.all.contains(.postgres) else { return }
        let (vault, key, url) = try makeVault(.postgres)
        try vault.apply(exampleRequest())
        let reopened = try Vault.open(at: url, key: .key(key), actor: "test")
        #expect(reopened.keyring.vaultID == vault.keyring.vaultID)
        #expect(try reopened.secret(apiKeyTarget) == SecretBytes(utf8: "billing-secret-1"))
        let again = #expect(throws: SigilError.self) { try Vault.create(at: url, key: .key(key), actor: "test") }
        #expect(again?.code == .vaultExists)
        let wrong = #expect(throws: SigilError.self) { try Vault.open(at: url, key: .key(.generate()), actor: "test") }
        #expect(wrong?.code == .wrongMasterKey)
        let empty = #expect(throws: SigilError.self) {
            try Vault.open(at: try TestStore.createDatabase(), key: .key(key), actor: "test")
        }
        #expect(empty?.code == .notAVault)
        // A password in the URL never reaches a message; nothing listens on port 9 of loopback.
        let down = #expect(throws: SigilError.self) {
            try Vault.open(at: "postgres://sigil:hunter2-secret@127.0.0.1:9/sigil", key: .key(key), actor: "test")
        }
        #expect(down?.code == .storageUnavailable)
        #expect(down?.reason.contains("hunter2") == false)
        #expect(down?.reason.contains("postgres://sigil:***@127.0.0.1:9/sigil") == true)
        let plain = #expect(throws: SigilError.self) {
            try Vault.open(at: "postgres://sigil@db.example:5432/sigil?sslmode=disable", key: .key(key), actor: "test")
        }
        #expect(plain?.code == .invalidVaultURL)
    }

    @Test("a wrong key, a missing file and a non-vault are clear errors that change nothing")
    func openFailures() throws {
        let (vault, _, path) = try makeVault()
        try vault.apply(exampleRequest())
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let wrong = #expect(throws: SigilError.self) { try Vault.open(at: path, key: .key(.generate()), actor: "test") }
        #expect(wrong?.code == .wrongMasterKey)
        #expect(wrong?.reason.contains("does not open vault") == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        let passphrase = #expect(throws: SigilError.self) {
            try Vault.open(at: path, key: .passphrase(SecretBytes(utf8: "x")), actor: "test")
        }
        #expect(passphrase?.reason.contains("protected by a key") == true)
        let missing = #expect(throws: SigilError.self) {
            try Vault.open(at: path + ".nope", key: .key(.generate()), actor: "test")
        }
        #expect(missing?.code == .notAVault)
        let text = temporaryDirectory() + "/notes.txt"
        try "hello, not a database, just some text that is long enough".write(
            toFile: text, atomically: true, encoding: .utf8)
        let notVault = #expect(throws: SigilError.self) {
            try Vault.open(at: text, key: .key(.generate()), actor: "test")
        }
        #expect(notVault?.code == .notAVault)
        let otherDatabase = temporaryDirectory() + "/other.db"
        try DatabaseQueue(path: otherDatabase).write { try $0.execute(sql: "CREATE TABLE t (x)") }
        let notSigil = #expect(throws: SigilError.self) {
            try Vault.open(at: otherDatabase, key: .key(.generate()), actor: "test")
        }
        #expect(notSigil?.code == .notAVault)
    }

    @Test("a passphrase vault opens with its passphrase only")
    func passphraseVault() throws {
        let path = temporaryDirectory() + "/vault.db"
        let vault = try Vault.create(
            at: path, key: .passphrase(SecretBytes(utf8: "correct horse")), kdfParameters: .minimumForTests(),
            actor: "test")
        try vault.apply(exampleRequest())
        let reopened = try Vault.open(at: path, key: .passphrase(SecretBytes(utf8: "correct horse")), actor: "test")
        #expect(try reopened.secret(apiKeyTarget) == SecretBytes(utf8: "billing-secret-1"))
        let wrong = #expect(throws: SigilError.self) {
            try Vault.open(at: path, key: .passphrase(SecretBytes(utf8: "wrong horse")), actor: "test")
        }
        #expect(wrong?.code == .wrongMasterKey)
        #expect(try vault.keyStatus().masterKeyKind == "passphrase")
    }

    @Test("apply creates, is idempotent, and reports updates field by field", arguments: TestStore.all)
    func applyIdempotent(store: TestStore) throws {
        let (vault, _, _) = try makeVault(store)
        let first = try vault.apply(exampleRequest())
        #expect(first.changes.allSatisfy { $0.action == .create })
        #expect(try vault.secret(apiKeyTarget) == SecretBytes(utf8: "billing-secret-1"))
        let auditCount = try vault.auditEntries(limit: 1000).count
        let second = try vault.apply(exampleRequest())
        #expect(!second.changedAnything)
        #expect(try vault.auditEntries(limit: 1000).count == auditCount)

        var request = exampleRequest(apiKey: "billing-secret-2")
        var catalog = request.catalog
        catalog = catalog.merging(
            Catalog(namedCredentials: [
                NamedCredential(
                    name: "Billing", url: "https://api.billing.example/v2", externalCredential: "Billing",
                    generateAuthorizationHeader: false, allowMergeFieldsInHeader: true)
            ]))
        request.catalog = catalog
        let third = try vault.apply(request)
        let changed = third.changes.filter { $0.action != .unchanged }
        #expect(changed.map(\.item) == ["named credential Billing", "secret apiKey of principal Billing/billing-org"])
        #expect(changed.first?.fields == ["url"])
        #expect(try vault.secret(apiKeyTarget) == SecretBytes(utf8: "billing-secret-2"))
        #expect(try vault.secret(apiKeyTarget, stage: .previous) == SecretBytes(utf8: "billing-secret-1"))
    }

    @Test("apply is all or nothing", arguments: TestStore.all)
    func allOrNothing(store: TestStore) throws {
        let (vault, _, _) = try makeVault(store)
        try vault.apply(exampleRequest())
        let catalogBefore = try vault.catalog()
        let auditBefore = try vault.auditEntries(limit: 1000)

        // An invalid reference: nothing of the request is written, not even its valid parts.
        var broken = exampleRequest(apiKey: "new-value")
        broken.catalog = broken.catalog.merging(
            Catalog(
                externalCredentials: [ExternalCredential(name: "Extra", authProtocol: .none)],
                grants: [Grant(principal: billingRef, subjects: [.group("no-such-group")])]
            ))
        let error = #expect(throws: SigilError.self) { try vault.apply(broken) }
        #expect(error?.reason.contains("group no-such-group does not exist") == true)

        // A secret for an owner that does not exist fails after the catalog was written: rolled back too.
        var orphan = exampleRequest(apiKey: "new-value")
        orphan.catalog = orphan.catalog.merging(
            Catalog(externalCredentials: [ExternalCredential(name: "Extra", authProtocol: .none)]))
        orphan.secrets[
            SecretTarget(owner: .principal(PrincipalRef(externalCredential: "Extra", principal: "ghost")), field: "x")] =
            SecretBytes(utf8: "v")
        #expect(throws: SigilError.self) { try vault.apply(orphan) }

        #expect(try vault.catalog() == catalogBefore)
        #expect(try vault.auditEntries(limit: 1000) == auditBefore)
        #expect(try vault.secret(apiKeyTarget) == SecretBytes(utf8: "billing-secret-1"))
    }

    @Test("a dry run reports and writes nothing", arguments: TestStore.all)
    func dryRun(store: TestStore) throws {
        let (vault, _, _) = try makeVault(store)
        let report = try vault.apply(exampleRequest(), dryRun: true)
        #expect(report.dryRun && report.changedAnything)
        #expect(try vault.catalog() == Catalog())
        #expect(try vault.secret(apiKeyTarget) == nil)
    }

    @Test("secret versions: current, previous and pending; the oldest is deleted", arguments: TestStore.all)
    func versions(store: TestStore) throws {
        let (vault, _, _) = try makeVault(store)
        try vault.apply(exampleRequest(apiKey: "v1"))
        #expect(try vault.setSecret(apiKeyTarget, value: SecretBytes(utf8: "v2")) == 2)
        #expect(try vault.setSecret(apiKeyTarget, value: SecretBytes(utf8: "v2")) == 2)
        #expect(try vault.setSecret(apiKeyTarget, value: SecretBytes(utf8: "v3")) == 3)
        #expect(try vault.setSecret(apiKeyTarget, value: SecretBytes(utf8: "v4"), stage: .pending) == 4)
        let status = try vault.secretStatuses(of: .principal(billingRef))
        #expect(status.first?.versions.map(\.version) == [4, 3, 2])
        #expect(status.first?.versions.map(\.stage) == ["pending", "current", "previous"])
        #expect(try vault.secret(apiKeyTarget) == SecretBytes(utf8: "v3"))
        #expect(try vault.secret(apiKeyTarget, stage: .previous) == SecretBytes(utf8: "v2"))
        #expect(try vault.secret(apiKeyTarget, stage: .pending) == SecretBytes(utf8: "v4"))
        let empty = #expect(throws: SigilError.self) { try vault.setSecret(apiKeyTarget, value: SecretBytes(utf8: "")) }
        #expect(empty?.reason.contains("empty") == true)
    }

    @Test("per-user secrets live on the user's authorization of a per-user principal", arguments: TestStore.all)
    func perUser(store: TestStore) throws {
        let (vault, _, _) = try makeVault(store)
        try vault.apply(exampleRequest())
        let calendar = PrincipalRef(externalCredential: "Calendar", principal: "per-user")
        let target = SecretTarget(owner: .authorization(calendar, user: "alice"), field: "password")
        try vault.setSecret(target, value: SecretBytes(utf8: "alice-pw"))
        #expect(try vault.secret(target) == SecretBytes(utf8: "alice-pw"))
        #expect(
            try vault.authorizations().map { "\($0.principal) \($0.user) \($0.status)" } == [
                "Calendar/per-user alice authorized"
            ])
        let named = #expect(throws: SigilError.self) {
            try vault.setSecret(
                SecretTarget(owner: .authorization(billingRef, user: "alice"), field: "password"),
                value: SecretBytes(utf8: "x"))
        }
        #expect(named?.reason.contains("named principal") == true)
        let nobody = #expect(throws: SigilError.self) {
            try vault.setSecret(
                SecretTarget(owner: .authorization(calendar, user: "mallory"), field: "password"),
                value: SecretBytes(utf8: "x"))
        }
        #expect(nobody?.reason.contains("user mallory does not exist") == true)
        try vault.delete(.user("alice"))
        #expect(try vault.authorizations().isEmpty)
        #expect(try secretRowCount(vault) == 1)
    }

    @Test("delete removes what an item owns and refuses to break references", arguments: TestStore.all)
    func delete(store: TestStore) throws {
        let (vault, _, _) = try makeVault(store)
        try vault.apply(exampleRequest())
        let used = #expect(throws: SigilError.self) { try vault.delete(.externalCredential("Billing")) }
        #expect(used?.reason.contains("used by named credential Billing") == true)
        try vault.delete(.namedCredential("Billing"))
        try vault.delete(.externalCredential("Billing"))
        #expect(try vault.catalog().externalCredentials.map(\.name) == ["Calendar"])
        #expect(try vault.catalog().grants.isEmpty)
        #expect(try secretRowCount(vault) == 0)
        let missing = #expect(throws: SigilError.self) { try vault.delete(.user("nobody")) }
        #expect(missing?.code == .notFound)
    }

    @Test("a client certificate needs its private key, stored or given", arguments: TestStore.all)
    func clientIdentity(store: TestStore) throws {
        let (vault, _, _) = try makeVault(store)
        try vault.apply(exampleRequest())
        let pem = testCertificatePEM
        let withCertificate = Catalog(namedCredentials: [
            NamedCredential(
                name: "Mtls", url: "https://mtls.example", externalCredential: "Billing",
                generateAuthorizationHeader: false, clientCertificate: pem)
        ])
        let error = #expect(throws: SigilError.self) { try vault.apply(ApplyRequest(catalog: withCertificate)) }
        #expect(error?.reason.contains("no private key") == true)
        let keyTarget = SecretTarget(owner: .namedCredential("Mtls"), field: NamedCredential.clientKeyField)
        try vault.apply(
            ApplyRequest(
                catalog: withCertificate, secrets: [keyTarget: SecretBytes(utf8: "-----BEGIN PRIVATE KEY-----")]))
        // Applied again without the key (as an export would be), the stored key is kept.
        #expect(try !vault.apply(ApplyRequest(catalog: withCertificate)).changedAnything)
    }
}

func secretRowCount(_ vault: Vault) throws -> Int {
    Int(try TestStore.rawValue(vault.path, "SELECT count(*) FROM secrets") ?? "") ?? -1
}

/// A real self-signed certificate (P-256, CN=Sigil test client, valid until 2126; client
/// certificates are parsed when applied), shared by the test targets: `Tests/Fixtures`.
let testCertificatePEM = try! String(
    contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/test-client.crt"),
    encoding: .utf8
)
