import Crypto
import Foundation
import GRDB
import SigilCore
import SigilModel
import SigilStore
import Testing

@Suite("The service's callers in the file: passwords, API keys, roles and settings are authenticated")
struct CallerTamperTests {
    func vaultWithCallers() throws -> (Vault, String, String) {
        let (vault, _, path) = try makeVault()
        var request = exampleRequest()
        request.catalog = request.catalog.merging(
            Catalog(
                users: [User(name: "ops")], roles: [RoleGrant(role: .operator, subject: .user("ops"))],
                service: ServiceSettings()))
        try vault.apply(request)
        try vault.setPassword(of: "alice", to: SecretBytes(utf8: "a long enough password"))
        let key = try vault.createAPIKey(for: "alice").1.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        return (vault, path, key)
    }

    func raw(_ path: String, _ sql: String, _ arguments: StatementArguments = []) throws {
        try DatabaseQueue(path: path).write { try $0.execute(sql: sql, arguments: arguments) }
    }

    @Test("an API key row added without the vault's key is refused, as is a revoked one un-revoked")
    func apiKeys() throws {
        let (vault, path, key) = try vaultWithCallers()
        #expect(try vault.user(ofAPIKey: SecretBytes(utf8: key), at: Date()) == "alice")
        let forged = "sigil_00112233445566ff_" + String(repeating: "A", count: 43)
        try raw(
            path,
            "INSERT INTO api_keys (key_id, user_id, hash, created_at) SELECT '00112233445566ff', id, ?, 'now' FROM users WHERE name = 'ops'",
            [Data(SHA256.hash(data: Data(forged.utf8)))])
        let error = #expect(throws: SigilError.self) { try vault.user(ofAPIKey: SecretBytes(utf8: forged), at: Date()) }
        #expect(error?.code == .catalogTampered)
        #expect(try vault.verifyCatalog().contains { $0.table == "api_keys" })

        let (other, otherPath, otherKey) = try vaultWithCallers()
        try other.revokeAPIKey(String(otherKey.dropFirst(6).prefix(16)))
        try raw(otherPath, "UPDATE api_keys SET revoked_at = NULL")
        let unrevoked = #expect(throws: SigilError.self) {
            try other.user(ofAPIKey: SecretBytes(utf8: otherKey), at: Date())
        }
        #expect(unrevoked?.code == .catalogTampered)
    }

    @Test("a password hash replaced in the file is refused")
    func passwords() throws {
        let (vault, path, _) = try vaultWithCallers()
        let known = try PasswordHash.hash(SecretBytes(utf8: "the attacker's own password"))
        try raw(path, "UPDATE user_passwords SET hash = ?", [known])
        let error = #expect(throws: SigilError.self) { try vault.passwordHash(of: "alice") }
        #expect(error?.code == .catalogTampered)
    }

    @Test("a role granted in the file without the vault's key stops the catalog from being used")
    func roles() throws {
        let (vault, path, _) = try vaultWithCallers()
        try raw(
            path,
            "INSERT INTO role_grants (role, user_id, act_as, created_at) SELECT 'admin', id, 0, 'now' FROM users WHERE name = 'alice'"
        )
        let error = #expect(throws: SigilError.self) { try vault.catalog() }
        #expect(error?.code == .catalogTampered)
        let (other, otherPath, _) = try vaultWithCallers()
        try raw(
            otherPath, #"UPDATE service_settings SET settings = json_set(settings, '$.basic.enabled', json('false'))"#)
        #expect(throws: SigilError.self) { try other.catalog() }
    }

    @Test("API key ids are random, and the key is shown once and stored only as its SHA-256")
    func keyShape() throws {
        let (vault, path, key) = try vaultWithCallers()
        #expect(key.count == 66)
        let ids = try (0..<16).map { _ in try vault.createAPIKey(for: "ops").0.id }
        #expect(Set(ids).count == 16)
        #expect(Set(ids.map { $0.suffix(4) }).count > 1)
        let file = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(file.range(of: Data(key.utf8)) == nil)
        #expect(file.range(of: Data(key.suffix(43).utf8)) == nil)
    }
}
