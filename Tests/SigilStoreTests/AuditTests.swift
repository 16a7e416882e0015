import Foundation
import GRDB
import SigilCore
import SigilModel
import SigilStore
import SigilTestSupport
import Testing

@Suite("Audit chain")
struct AuditTests {
    func vaultWithHistory(_ store: TestStore) throws -> Vault {
        let (vault, _, _) = try makeVault(store)
        try vault.apply(exampleRequest())
        try vault.setSecret(apiKeyTarget, value: SecretBytes(utf8: "second"))
        try vault.delete(.user("alice"))
        return vault
    }

    func raw(_ vault: Vault, _ sql: String) throws {
        try TestStore.raw(vault.path, sql)
    }

    @Test("every change is recorded, with who and what, and no secret value", arguments: TestStore.all)
    func recorded(store: TestStore) throws {
        let vault = try vaultWithHistory(store)
        let entries = try vault.auditEntries(limit: 1000)
        #expect(entries.first?.action == "vault.create")
        #expect(
            entries.contains {
                $0.action == "secret.set" && $0.target == "secret apiKey of principal Billing/billing-org"
                    && $0.detail["version"] == "2"
            })
        #expect(entries.last?.action == "delete")
        #expect(entries.allSatisfy { $0.actor == "test" })
        let text = try String(decoding: JSONEncoder().encode(entries), as: UTF8.self)
        #expect(!text.contains("billing-secret-1") && !text.contains("second\""))
        let result = try vault.verifyAudit()
        #expect(result.valid && result.entries == entries.count && result.headSeq == Int64(entries.count))
    }

    @Test(
        "a use record whose path holds a NUL is recorded, filtered and verified on both stores",
        arguments: TestStore.all)
    func nulInUseRecord(store: TestStore) throws {
        let vault = try vaultWithHistory(store)
        try vault.recordUses([
            UseRecord(
                kind: .sign, at: Date(), caller: "app", authenticator: "api-key", actingUser: "bob",
                namedCredential: "Billing", principal: "Billing/billing-org", method: "GET", host: "api.example",
                path: "/v1/a\u{0}b", outcome: "ok")
        ])
        let entries = try vault.auditEntries(matching: AuditFilter(user: "bob"))
        #expect(entries.map(\.detail["path"]) == ["/v1/a\u{FFFD}b"])
        #expect(try vault.auditEntries(matching: AuditFilter(credential: "Billing")).count >= 1)
        #expect(try vault.verifyAudit().valid)
    }

    @Test(
        "a batch of use records is chained in order, each entry read back as written (quotes, escapes, control characters, non-ASCII)",
        arguments: TestStore.all)
    func useRecordBatch(store: TestStore) throws {
        let vault = try vaultWithHistory(store)
        let before = try vault.verifyAudit().headSeq
        let paths = [
            "/v1/\"quoted\"", "/v1/back\\slash", "/v1/tab\there\nline\u{1}", "/v1/caf\u{E9}/\u{1F510}", "/v1/a/b",
        ]
        try vault.recordUses(
            paths.enumerated().map { index, path in
                UseRecord(
                    kind: index.isMultiple(of: 2) ? .sign : .proxy, at: Date(), caller: "app",
                    authenticator: "api-key", actingUser: "carol", namedCredential: "Billing",
                    principal: "Billing/billing-org", method: "GET", host: "api.example", path: path, outcome: "ok")
            })
        let entries = try vault.auditEntries(matching: AuditFilter(user: "carol"))
        #expect(entries.map(\.seq) == Array((before + 1)...(before + Int64(paths.count))))
        #expect(entries.map { $0.detail["path"] } == paths)
        #expect(entries.map(\.action) == ["use.sign", "use.proxy", "use.sign", "use.proxy", "use.sign"])
        #expect(
            entries.allSatisfy { $0.detail["namedCredential"] == "Billing" && $0.target == "named credential Billing" })
        #expect(try vault.verifyAudit().valid)
    }

    @Test("an edited entry is detected", arguments: TestStore.all)
    func edited(store: TestStore) throws {
        let vault = try vaultWithHistory(store)
        try raw(vault, "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3")
        let result = try vault.verifyAudit()
        #expect(!result.valid)
        #expect(result.problems == ["entry 3 was altered or moved"])
    }

    @Test("a removed entry is detected", arguments: TestStore.all)
    func removed(store: TestStore) throws {
        let vault = try vaultWithHistory(store)
        try raw(vault, "DELETE FROM audit_log WHERE seq = 4")
        let result = try vault.verifyAudit()
        #expect(!result.valid)
        #expect(result.problems.contains("entries 4 to 4 are missing"))
        #expect(result.problems.contains { $0.contains("entry 5 does not follow") })
    }

    @Test("reordered entries are detected, even with their sequence numbers swapped back", arguments: TestStore.all)
    func reordered(store: TestStore) throws {
        let vault = try vaultWithHistory(store)
        try raw(
            vault,
            """
            UPDATE audit_log SET seq = CASE seq WHEN 5 THEN -6 WHEN 6 THEN -5 END WHERE seq IN (5, 6);
            UPDATE audit_log SET seq = -seq WHERE seq < 0;
            """)
        let result = try vault.verifyAudit()
        #expect(!result.valid)
        #expect(result.problems.contains("entry 5 was altered or moved"))
    }

    @Test("an entry forged without the audit key is detected", arguments: TestStore.all)
    func forged(store: TestStore) throws {
        let vault = try vaultWithHistory(store)
        try raw(
            vault,
            """
            INSERT INTO audit_log (seq, at, actor, action, target, detail, key_id, prev_mac, mac)
            SELECT seq + 1, at, 'mallory', 'delete', 'evidence', '{}', key_id, mac, prev_mac FROM audit_log ORDER BY seq DESC LIMIT 1
            """)
        let result = try vault.verifyAudit()
        #expect(result.problems.count == 1 && result.problems[0].hasSuffix("was altered or moved"))
    }
}
