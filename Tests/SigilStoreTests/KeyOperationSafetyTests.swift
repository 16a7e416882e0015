import Foundation
import GRDB
import SigilCore
import SigilModel
import SigilStore
import SigilTestSupport
import Testing

/// Key operations from several handles (processes), and values that no longer open: none may
/// leave the vault unopenable or a value lost, and none may block the operator's repair.
@Suite("Key operations are safe together, and corrupted values do not block them")
struct KeyOperationSafetyTests {
    @Test(
        "a handle whose master key another handle replaced cannot wrap a key under the old one",
        arguments: TestStore.all)
    func staleMasterKey(store: TestStore) throws {
        let (first, oldKey, path) = try makeVault(store)
        try first.apply(exampleRequest())
        let second = try Vault.open(at: path, key: .key(oldKey), actor: "second")
        let newKey = MasterKey.generate()
        _ = try first.rotateMasterKey(to: .key(newKey))
        // The second handle still holds the old master key: a new data key would be wrapped under
        // it and, once the old data key is destroyed, nothing would open the vault.
        let dataKey = #expect(throws: SigilError.self) { try second.rotateDataKey() }
        #expect(dataKey?.code == .masterKeyRotated)
        #expect(dataKey?.reason.contains("nothing was changed") == true)
        let master = #expect(throws: SigilError.self) { try second.rotateMasterKey(to: .key(MasterKey.generate())) }
        #expect(master?.code == .masterKeyRotated)
        let reopened = try Vault.open(at: path, key: .key(newKey), actor: "test")
        #expect(try reopened.secret(apiKeyTarget) == SecretBytes(utf8: "billing-secret-1"))
        #expect(try reopened.keyStatus().keys.filter { $0.purpose == "data" }.count == 1)
        #expect(try reopened.verifyAudit().valid)
    }

    @Test(
        "a writer that meets a data key wrapped under a newer master key is told the key was rotated, not tampered with"
    )
    func writerAfterRotation() throws {
        let (first, oldKey, path) = try makeVault()
        try first.apply(exampleRequest())
        let writer = try Vault.open(at: path, key: .key(oldKey), actor: "writer")
        let newKey = MasterKey.generate()
        let rotated = try first.rotateMasterKey(to: .key(newKey))
        try rotated.rotateDataKey()
        let error = #expect(throws: SigilError.self) {
            try writer.setSecret(apiKeyTarget, value: SecretBytes(utf8: "late"))
        }
        #expect(error?.code == .masterKeyRotated)
        #expect(error?.reason.contains("run the command again") == true)
        // Opened again with the new key, the same write goes through.
        try Vault.open(at: path, key: .key(newKey), actor: "writer").setSecret(
            apiKeyTarget, value: SecretBytes(utf8: "late"))
        #expect(try rotated.secret(apiKeyTarget) == SecretBytes(utf8: "late"))
    }

    @Test("a key added by another process whose wrapping was altered is reported as altered, not as a rotation")
    func alteredNewKey() throws {
        let (first, key, path) = try makeVault()
        try first.apply(exampleRequest())
        let other = try Vault.open(at: path, key: .key(key), actor: "other")
        let added = try other.rotateDataKey()
        try DatabaseQueue(path: path).write {
            try $0.execute(
                sql:
                    "UPDATE wrapped_keys SET wrapped = CAST(substr(wrapped, 1, 30) || CASE WHEN substr(wrapped, 31, 1) = x'ff' THEN x'fe' ELSE x'ff' END || substr(wrapped, 32) AS BLOB) WHERE id = ?",
                arguments: [added])
        }
        let error = #expect(throws: SigilError.self) {
            try first.setSecret(apiKeyTarget, value: SecretBytes(utf8: "x"))
        }
        #expect(error?.code == .wrongMasterKey)
        #expect(
            error?.reason.contains("key \(added)") == true && error?.reason.contains("wrapping was altered") == true,
            "\(error?.reason ?? "")")
    }

    @Test("the key-operation lock makes a second holder wait, and a timeout says why", arguments: TestStore.all)
    func lock(store: TestStore) throws {
        let path = try store.newVaultLocation(in: temporaryDirectory())
        if store == .postgres { try makeVaultAt(path) }
        let inside = try KeyOperationLock.withLock(vaultPath: path) {
            // flock is per open file description, an advisory lock per connection: a second
            // holder in this process waits too.
            let error = #expect(throws: SigilError.self) {
                try KeyOperationLock.withLock(vaultPath: path, timeout: 0.2) {}
            }
            #expect(error?.code == .keyOperationInProgress)
            return true
        }
        #expect(inside)
        try KeyOperationLock.withLock(vaultPath: path, timeout: 0.2) {}
        guard store == .sqlite else { return }
        let mode =
            try FileManager.default.attributesOfItem(atPath: KeyOperationLock.path(forVault: path))[.posixPermissions]
            as? Int
        #expect(mode == 0o600)
    }

    @Test("a corrupted value is replaced by a new one, and data-key rotation reports and skips it")
    func corruptedValue() throws {
        let (vault, key, path) = try makeVault()
        try vault.apply(exampleRequest())
        let calendar = PrincipalRef(externalCredential: "Calendar", principal: "per-user")
        let other = SecretTarget(owner: .principal(calendar), field: "shared")
        try vault.setSecret(other, value: SecretBytes(utf8: "shared-value"))
        // Flip one bit of the apiKey's ciphertext.
        try DatabaseQueue(path: path).write {
            try $0.execute(
                sql:
                    "UPDATE secrets SET sealed = CAST(substr(sealed, 1, 40) || CASE WHEN substr(sealed, 41, 1) = x'01' THEN x'02' ELSE x'01' END || substr(sealed, 42) AS BLOB) WHERE field = 'apiKey'"
            )
        }
        #expect(throws: SigilError.self) { try vault.secret(apiKeyTarget) }

        // Rotation re-seals what opens, reports what does not, and keeps the old key for it.
        let oldKeys = try vault.keyStatus().keys.filter { $0.purpose == "data" }.map(\.id)
        try vault.rotateDataKey()
        var unreadable: [ResealProgress.Unreadable] = []
        for _ in 0..<10 {
            let progress = try vault.resealBatch(limit: 1, skipping: Set(unreadable.map(\.id)))
            unreadable += progress.unreadable
            if progress.remaining == 0 { break }
        }
        #expect(unreadable.count == 1)
        #expect(unreadable.first?.location.contains("apiKey") == true)
        #expect(try vault.secret(other) == SecretBytes(utf8: "shared-value"))
        #expect(try vault.keyStatus().keys.contains { oldKeys.contains($0.id) })

        // Setting a new value replaces the corrupted one; then the old key can go.
        try vault.setSecret(apiKeyTarget, value: SecretBytes(utf8: "repaired"))
        #expect(try vault.secret(apiKeyTarget) == SecretBytes(utf8: "repaired"))
        // An apply that mentions the field works too.
        try vault.apply(exampleRequest(apiKey: "applied"))
        #expect(
            try Vault.open(at: path, key: .key(key), actor: "t").secret(apiKeyTarget) == SecretBytes(utf8: "applied"))
        // The corrupted version became `previous` and then was dropped by the second set.
        let progress = try vault.resealBatch(limit: 10)
        #expect(progress.unreadable.isEmpty)
        #expect(progress.remaining == 0)
        #expect(try !vault.keyStatus().keys.contains { oldKeys.contains($0.id) })
        #expect(try vault.verifyAudit().valid)
    }
}

/// Creates a vault at `location` (a lock on PostgreSQL needs the database to exist; it need not hold a vault).
private func makeVaultAt(_ location: String) throws {
    _ = try Vault.create(at: location, key: .key(.generate()), actor: "test")
}
