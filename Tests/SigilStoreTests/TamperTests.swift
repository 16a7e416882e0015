import Foundation
import GRDB
import SigilCore
import SigilModel
import SigilStore
import Testing

@Suite("Sealed secrets in the file: tamper, swap, copy")
struct TamperTests {
    /// A vault with two principals' secrets of the same field.
    func twoSecrets() throws -> (Vault, MasterKey, String, SecretTarget, SecretTarget) {
        let (vault, key, path) = try makeVault()
        var request = exampleRequest(apiKey: "alpha-secret")
        request.catalog = request.catalog.merging(
            Catalog(externalCredentials: [
                ExternalCredential(
                    name: "Billing", authProtocol: .custom,
                    principals: [
                        Principal(name: "billing-org", type: .named, sequence: 1),
                        Principal(name: "backup", type: .named, sequence: 2),
                    ]
                )
            ]))
        let backup = SecretTarget(
            owner: .principal(PrincipalRef(externalCredential: "Billing", principal: "backup")), field: "apiKey")
        request.secrets[backup] = SecretBytes(utf8: "beta-secret")
        try vault.apply(request)
        return (vault, key, path, apiKeyTarget, backup)
    }

    func raw(_ path: String, _ sql: String) throws {
        try DatabaseQueue(path: path).write { try $0.execute(sql: sql) }
    }

    @Test("a blob moved to another row does not open, and the error says so")
    func swapped() throws {
        let (vault, _, path, first, second) = try twoSecrets()
        try raw(
            path,
            """
            CREATE TEMP TABLE original AS SELECT id, sealed FROM secrets WHERE field = 'apiKey';
            UPDATE secrets SET sealed = (SELECT sealed FROM original WHERE original.id <> secrets.id) WHERE field = 'apiKey';
            """)
        for target in [first, second] {
            let error = #expect(throws: SigilError.self) { try vault.secret(target) }
            #expect(error?.code == .blobAuthenticationFailed)
            #expect(error?.reason.contains("moved from another place") == true)
        }
    }

    @Test("a secret row re-pointed at another owner does not open")
    func reowned() throws {
        let (vault, _, path, _, second) = try twoSecrets()
        // Give billing-org the backup principal's sealed row.
        try raw(
            path,
            """
            DELETE FROM secrets WHERE owner_id = (SELECT id FROM principals WHERE name = 'billing-org');
            UPDATE secrets SET owner_id = (SELECT id FROM principals WHERE name = 'billing-org')
            WHERE owner_id = (SELECT id FROM principals WHERE name = 'backup');
            """)
        let error = #expect(throws: SigilError.self) { try vault.secret(apiKeyTarget) }
        // The row MAC (owner id) refuses it first; the blob would not open either.
        #expect(error?.code == .catalogTampered)
        #expect(try vault.secret(second) == nil)
    }

    @Test("a flipped byte or a truncated blob in the file is detected")
    func tampered() throws {
        let (vault, _, path, first, _) = try twoSecrets()
        let row = "owner_id = (SELECT id FROM principals WHERE name = 'billing-org') AND field = 'apiKey'"
        try raw(
            path,
            // Byte 41 set to another value (it is random: setting it to a fixed one missed 1 run in 256).
            """
            UPDATE secrets SET sealed = CAST(substr(sealed, 1, 40)
                || CASE WHEN substr(sealed, 41, 1) = x'00' THEN x'01' ELSE x'00' END || substr(sealed, 42) AS BLOB)
            WHERE \(row)
            """
        )
        let flipped = #expect(throws: SigilError.self) { try vault.secret(first) }
        #expect(flipped?.code == .blobAuthenticationFailed)
        try raw(path, "UPDATE secrets SET sealed = substr(sealed, 1, 20) WHERE \(row)")
        let error = #expect(throws: SigilError.self) { try vault.secret(first) }
        #expect(error?.code == .malformedBlob)
    }

    @Test("a blob copied into another vault with the same key does not open")
    func copiedToAnotherVault() throws {
        let (_, key, path, first, _) = try twoSecrets()
        let otherPath = temporaryDirectory() + "/other.db"
        let other = try Vault.create(at: otherPath, key: .key(key), actor: "test")
        try other.apply(exampleRequest(apiKey: "other-vault-secret"))
        let stolen = try DatabaseQueue(path: path).read {
            try Data.fetchOne($0, sql: "SELECT sealed FROM secrets WHERE field = 'apiKey' ORDER BY id LIMIT 1")!
        }
        try DatabaseQueue(path: otherPath).write {
            try $0.execute(sql: "UPDATE secrets SET sealed = ? WHERE field = 'apiKey'", arguments: [stolen])
        }
        #expect(throws: SigilError.self) { try other.secret(first) }
    }

    @Test("a tampered wrapped data key fails at open as a key problem, changing nothing")
    func tamperedWrappedKey() throws {
        let (_, key, path, _, _) = try twoSecrets()
        try raw(
            path,
            "UPDATE wrapped_keys SET wrapped = CAST(substr(wrapped, 1, 30) || CASE WHEN substr(wrapped, 31, 1) = x'ff' THEN x'fe' ELSE x'ff' END || substr(wrapped, 32) AS BLOB) WHERE purpose = 'data'"
        )
        let error = #expect(throws: SigilError.self) { try Vault.open(at: path, key: .key(key), actor: "test") }
        #expect(error?.code == .wrongMasterKey)
    }
}

@Suite("Keys: master-key rotation, data-key rotation and re-sealing")
struct KeyRotationTests {
    @Test("rotating the master key re-wraps the keys; the old key no longer opens the vault")
    func masterKey() throws {
        let (vault, oldKey, path) = try makeVault()
        try vault.apply(exampleRequest())
        let newKey = MasterKey.generate()
        let rotated = try vault.rotateMasterKey(to: .key(newKey))
        #expect(try rotated.secret(apiKeyTarget) == SecretBytes(utf8: "billing-secret-1"))
        // The handle opened before the rotation keeps working (its data keys are unchanged).
        #expect(try vault.secret(apiKeyTarget) == SecretBytes(utf8: "billing-secret-1"))
        #expect(throws: SigilError.self) { try Vault.open(at: path, key: .key(oldKey), actor: "test") }
        let reopened = try Vault.open(at: path, key: .key(newKey), actor: "test")
        #expect(try reopened.secret(apiKeyTarget) == SecretBytes(utf8: "billing-secret-1"))
        #expect(try reopened.verifyAudit().valid)
        // To a passphrase, and back to a key.
        let toPassphrase = try reopened.rotateMasterKey(
            to: .passphrase(SecretBytes(utf8: "a long passphrase")), kdfParameters: .minimumForTests())
        let viaPassphrase = try Vault.open(
            at: path, key: .passphrase(SecretBytes(utf8: "a long passphrase")), actor: "test")
        #expect(try viaPassphrase.secret(apiKeyTarget) == SecretBytes(utf8: "billing-secret-1"))
        _ = try toPassphrase.rotateMasterKey(to: .key(oldKey))
        #expect(try Vault.open(at: path, key: .key(oldKey), actor: "test").secret(apiKeyTarget) != nil)
    }

    @Test("a new data key seals new secrets; re-sealing moves the rest in batches, then destroys the old key")
    func dataKey() throws {
        let (vault, key, path) = try makeVault()
        try vault.apply(exampleRequest())
        let calendar = PrincipalRef(externalCredential: "Calendar", principal: "per-user")
        for index in 0..<5 {
            try vault.setSecret(
                SecretTarget(owner: .principal(calendar), field: "field\(index)"),
                value: SecretBytes(utf8: "value-\(index)"))
        }
        // Another process's handle, opened before the rotation.
        let other = try Vault.open(at: path, key: .key(key), actor: "other")
        let newKey = try vault.rotateDataKey()
        try vault.setSecret(apiKeyTarget, value: SecretBytes(utf8: "sealed-under-new-key"))
        // The other handle loads the new key when it first meets it.
        #expect(try other.secret(apiKeyTarget) == SecretBytes(utf8: "sealed-under-new-key"))
        var batches = 0
        while true {
            let progress = try vault.resealBatch(limit: 2)
            let (resealed, remaining) = (progress.resealed, progress.remaining)
            batches += 1
            // Between batches the vault is fully usable, from both handles.
            #expect(
                try other.secret(SecretTarget(owner: .principal(calendar), field: "field4"))
                    == SecretBytes(utf8: "value-4"))
            if remaining == 0 || resealed == 0 { break }
        }
        #expect(batches >= 3)
        let status = try vault.keyStatus()
        #expect(status.keys.filter { $0.purpose == "data" }.map(\.id) == [newKey])
        #expect(status.keys.first { $0.id == newKey }?.secretCount == 7)
        for index in 0..<5 {
            #expect(
                try Vault.open(at: path, key: .key(key), actor: "t").secret(
                    SecretTarget(owner: .principal(calendar), field: "field\(index)"))
                    == SecretBytes(utf8: "value-\(index)"))
        }
        #expect(try vault.secret(apiKeyTarget, stage: .previous) == SecretBytes(utf8: "billing-secret-1"))
    }
}
